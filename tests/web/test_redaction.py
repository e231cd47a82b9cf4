"""PII never leaves the server: payload fields by key, e-mail addresses and phone numbers in any text.

The API redacts with ``jobq.redact`` like the dashboard, CLI and hooks: a match in text keeps a hint of what
it was (``[redacted phone]``), a field hidden by its key becomes ``[redacted]``.
"""

from __future__ import annotations

import html
import json

import pytest

from jobq.errors import JobqError
from jobq.redact import REDACTED
from jobq.web import Redactor

from .conftest import API_TOKEN, EMAIL, PHONE, Live, ServerFactory

SECRETS = [PHONE, "+15550001101", "+15559990001", EMAIL, API_TOKEN, "hunter2"]
A_PHONE, AN_EMAIL = "[redacted phone]", "[redacted email]"


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
    assert shown["payload"]["kwargs"] == {"to": A_PHONE, "body": "hi", "api_token": REDACTED}
    assert shown["error_message"] == f"HTTP 400: invalid phone number {A_PHONE}"
    assert all(PHONE not in error["traceback"] for error in shown["errors"])


def test_the_stored_dead_letter_keeps_its_data(live: Live) -> None:
    with live.client() as client:
        client.get("/api/dlq/export")
    stored = live.app.dlq.list(tenant="globex", task="send_email", limit=1, with_payload=True)[0]
    assert stored.payload["kwargs"] == {"email": EMAIL, "password": "hunter2"}
    assert EMAIL in stored.error_message


def test_the_patterns_are_configurable_and_the_dashboard_uses_the_same(start: ServerFactory) -> None:
    live = start(redactor=Redactor(keys=["^body$"], values=[], allow=["api_token"]))
    letter = live.app.dlq.list(tenant="acme", limit=1)[0]
    with live.client() as client:
        shown = client.get(f"/api/dead-letters/{letter.id}").json()
        page = client.get(f"/dashboard/dead-letters/{letter.id}").text
    phone = letter.error_message.split()[-1]
    assert shown["payload"]["kwargs"] == {"to": phone, "body": REDACTED, "api_token": API_TOKEN}
    payload = page.split('<pre class="code payload">', 1)[1].split("</pre>", 1)[0]
    assert json.loads(html.unescape(payload)) == shown["payload"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("invalid phone number +15550001111", f"invalid phone number {A_PHONE}"),
        ("call +82 10-1234-5678 now", f"call {A_PHONE} now"),
        ("(555) 010-1234 or 010-1234-5678", f"{A_PHONE} or {A_PHONE}"),
        ("mail Ann.Lee+jobs@mail.example.co.uk", f"mail {AN_EMAIL}"),
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
    # A null under a sensitive key stays null: it says nothing personal, and "passwd was null" is often the
    # very failure being triaged.
    payload = {
        "args": [{"Phone": "1"}, "plain"],
        "kwargs": {"user": {"E-Mail": "x", "name": "Ann", "creditCardNumber": "4111"}, "headers": {
            "Authorization": "Bearer x"}, "count": 3, "token_ids": [1, 2], "passwd": None},
    }  # fmt: skip
    assert Redactor().payload(payload) == {
        "args": [{"Phone": REDACTED}, "plain"],
        "kwargs": {"user": {"E-Mail": REDACTED, "name": "Ann", "creditCardNumber": REDACTED},
                   "headers": {"Authorization": REDACTED}, "count": 3, "token_ids": REDACTED, "passwd": None},
    }  # fmt: skip


def test_a_bad_pattern_is_a_clear_error() -> None:
    with pytest.raises(JobqError, match="'\\(' is not a valid regular expression"):
        Redactor(keys=["("])
