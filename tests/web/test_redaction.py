"""PII never leaves the server: payload fields by key, e-mail addresses and phone numbers in any text."""

from __future__ import annotations

import pytest

from jobq.web import Redactor
from jobq.web.redaction import REDACTED

from .conftest import API_TOKEN, EMAIL, PHONE, Live, ServerFactory

SECRETS = [PHONE, "+15550001101", "+15559990001", EMAIL, API_TOKEN, "hunter2"]


def test_no_response_carries_a_phone_number_an_email_or_a_secret(live: Live) -> None:
    letters = live.app.dlq.list(limit=100)
    jobs = live.app.list_jobs(limit=100)
    paths = [
        "/api/dead-letters?with_payload=true", "/api/jobs", "/api/queue/dlq/failures", "/api/dlq/groups",
        "/api/dlq/groups?by=task", "/api/dlq/export", "/api/dlq/export?format=csv", "/api/stats",
        *(f"/api/dead-letters/{letter.id}" for letter in letters), *(f"/api/jobs/{job.id}" for job in jobs),
    ]  # fmt: skip
    with live.client() as client:
        for path in paths:
            text = client.get(path).text
            assert not [secret for secret in SECRETS if secret in text], (path, text[:2000])
        user_error = live.app.dlq.list(search="+15550001101", limit=1)[0]
        shown = client.get(f"/api/dead-letters/{user_error.id}").json()
    assert shown["payload"]["kwargs"] == {"to": REDACTED, "body": "hi", "api_token": REDACTED}
    assert shown["error_message"] == f"HTTP 400: invalid phone number {REDACTED}"
    assert all(PHONE not in error["traceback"] for error in shown["errors"])


def test_the_stored_dead_letter_keeps_its_data(live: Live) -> None:
    with live.client() as client:
        client.get("/api/dlq/export")
    stored = live.app.dlq.list(tenant="globex", task="send_email", limit=1, with_payload=True)[0]
    assert stored.payload["kwargs"] == {"email": EMAIL, "password": "hunter2"}
    assert EMAIL in stored.error_message


def test_the_patterns_are_configurable(start: ServerFactory) -> None:
    live = start(redactor=Redactor(["^body$"], allow=["api_token"], text_patterns=[]))
    letter = live.app.dlq.list(tenant="acme", limit=1)[0]
    with live.client() as client:
        shown = client.get(f"/api/dead-letters/{letter.id}").json()
    assert shown["payload"]["kwargs"] == {"to": letter.error_message.split()[-1], "body": REDACTED,
                                          "api_token": API_TOKEN}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("invalid phone number +15550001111", f"invalid phone number {REDACTED}"),
        ("call +82 10-1234-5678 now", f"call {REDACTED} now"),
        ("(555) 010-1234 or 010-1234-5678", f"{REDACTED} or {REDACTED}"),
        ("mail Ann.Lee+jobs@mail.example.co.uk", f"mail {REDACTED}"),
        ("at 2024-05-01T10:00:00.123+00:00 took 1234567 ms", "at 2024-05-01T10:00:00.123+00:00 took 1234567 ms"),
        ('File "/srv/app/tasks.py", line 1234, in send', 'File "/srv/app/tasks.py", line 1234, in send'),
        ("job 01M89TJQQE9NYVQEJA54A8HM1Y, fingerprint 5f3e2d1c0b9a8796", "same"),
        ("uuid 550e8400-e29b-41d4-a716-446655440000 on 10.0.0.12:5432", "same"),
        ("version 1.2.3, 100.5 ms, 3 of 12", "same"),
    ],
)
def test_text_loses_emails_and_phone_numbers_only(text: str, shown: str) -> None:
    assert Redactor().text(text) == (text if shown == "same" else shown)


def test_payload_keys_are_matched_case_insensitively_at_any_depth() -> None:
    payload = {
        "args": [{"Phone": "1"}, "plain"],
        "kwargs": {"user": {"E-Mail": "x", "name": "Ann", "creditCardNumber": "4111"}, "headers": {
            "Authorization": "Bearer x"}, "count": 3, "token_ids": [1, 2], "passwd": None},
    }  # fmt: skip
    assert Redactor().value(payload) == {
        "args": [{"Phone": REDACTED}, "plain"],
        "kwargs": {"user": {"E-Mail": REDACTED, "name": "Ann", "creditCardNumber": REDACTED},
                   "headers": {"Authorization": REDACTED}, "count": 3, "token_ids": REDACTED, "passwd": REDACTED},
    }  # fmt: skip


def test_a_bad_pattern_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="redaction pattern '\\(' is not a regular expression"):
        Redactor(["("])
