"""PII in the CLI's output: phone numbers and e-mail addresses are redacted by default, shown with --no-redact.

The shop's dead letters carry phone numbers in payloads, error messages and tracebacks; one more, imported,
carries an e-mail address too.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from .conftest import Shop, one_error_line

PHONE, EMAIL = "+1555", "kim@example.com"
"""Every number the shop sends to starts with PHONE."""
MAIL_LETTER = "00PII" + "0" * 21
WIDE = {"COLUMNS": "250"}  # tables cut messages to the terminal's width: let them show whole


@pytest.fixture
def mail_shop(shop: Shop) -> Shop:
    """The shop, plus a dead letter with an e-mail address and a phone number in every text it has."""
    message = f"mailbox {EMAIL} is full; call +15550003333"
    traceback = f'Traceback (most recent call last):\n  File "shop.py", line 9, in notify\nOSError: {message}\n'
    error = {"attempt": 1, "at": datetime.now(UTC).isoformat(), "error_type": "OSError", "message": message,
             "traceback": traceback}  # fmt: skip
    row = {
        "id": MAIL_LETTER, "job_id": "00PIIJOB" + "0" * 18, "task": "notify", "queue": "default", "tenant": "acme",
        "payload": {"args": [], "kwargs": {"email": EMAIL, "text": "call +15550003333"}}, "attempts": 1,
        "error_type": "OSError", "error_message": message, "error_traceback": traceback, "errors": [error],
        "error_class": "system_error", "fingerprint": "5e5e5e5e5e5e5e5e", "failed_at": error["at"],
        "resolution": "open",
    }  # fmt: skip
    with shop.app() as app:
        app.dlq.import_(io.StringIO(json.dumps(row)))
    return shop


def sms_job(shop: Shop) -> str:
    """A dead job whose payload and error history hold the number it failed to send to."""
    with shop.app() as app:
        return next(
            job.id for job in app.list_jobs(status="dead") if job.payload["kwargs"].get("to", "")[:8] == "+1555000"
        )


def outputs(shop: Shop, *options: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """What each read command prints (table and JSON), with ``options`` before the command."""
    job = sms_job(shop)
    commands = {
        "dlq list": ("dlq", "list"), "dlq list --json": ("--json", "dlq", "list", "--with-payload"),
        "dlq inspect": ("dlq", "inspect", MAIL_LETTER), "dlq inspect --json": ("--json", "dlq", "inspect", MAIL_LETTER),
        "dlq groups": ("dlq", "groups"), "dlq groups --json": ("--json", "dlq", "groups"),
        "jobs list": ("jobs", "list"), "jobs list --json": ("--json", "jobs", "list"),
        "jobs inspect": ("jobs", "inspect", job), "jobs inspect --json": ("--json", "jobs", "inspect", job),
    }  # fmt: skip
    shown = {}
    for name, command in commands.items():
        result = shop.jobq(*options, *command, env={**WIDE, **(env or {})})
        assert result.returncode == 0, (name, result.stderr)
        shown[name] = result.stdout
    return shown


def test_list_inspect_and_groups_hide_phone_numbers_and_emails_by_default(mail_shop: Shop) -> None:
    shown = outputs(mail_shop)
    assert not [name for name, out in shown.items() if PHONE in out or EMAIL in out], shown
    assert "[redacted phone]" in shown["dlq list"] and "[redacted email]" in shown["dlq list"]
    letter = json.loads(shown["dlq inspect --json"])
    assert letter["payload"]["kwargs"] == {"email": "[redacted]", "text": "call [redacted phone]"}
    assert letter["error_message"] == "mailbox [redacted email] is full; call [redacted phone]"
    assert "[redacted email]" in letter["error_traceback"] and "[redacted email]" in letter["errors"][0]["traceback"]
    job = json.loads(shown["jobs inspect --json"])
    assert job["payload"]["kwargs"]["to"] == "[redacted phone]"
    assert job["errors"][0]["message"] == "HTTP 400: invalid phone number [redacted phone]"
    assert "[redacted phone]" in shown["jobs inspect"] and "[redacted email]" in shown["dlq inspect"]
    groups = json.loads(shown["dlq groups --json"])["groups"]
    assert "mailbox [redacted email] is full; call [redacted phone]" in {group["sample_message"] for group in groups}


def test_no_redact_shows_what_is_stored(mail_shop: Shop) -> None:
    shown = outputs(mail_shop, "--no-redact")
    lacking = [name for name, out in shown.items() if PHONE not in out and name != "dlq groups"]
    assert not lacking, shown  # a group's value is a fingerprint, its sample message may be cut to fit
    assert EMAIL in shown["dlq inspect"] and EMAIL in shown["dlq list --json"]
    letter = json.loads(shown["dlq inspect --json"])
    assert letter["payload"]["kwargs"]["email"] == EMAIL and EMAIL in letter["errors"][0]["traceback"]


@pytest.mark.parametrize(
    ("options", "env"), [(("--no-redact",), {}), ((), {"JOBQ_NO_REDACT": "1"})], ids=["after", "environment"]
)
def test_no_redact_after_the_command_or_in_the_environment(
    mail_shop: Shop, options: tuple[str, ...], env: dict[str, str]
) -> None:
    result = mail_shop.jobq("dlq", "inspect", MAIL_LETTER, *options, env=env)
    assert result.returncode == 0, result.stderr
    assert EMAIL in result.stdout and "+15550003333" in result.stdout


def test_export_is_redacted_unless_no_redact_asks_for_the_faithful_copy(mail_shop: Shop) -> None:
    redacted = mail_shop.jobq("dlq", "export")
    assert redacted.returncode == 0, redacted.stderr
    assert PHONE not in redacted.stdout and EMAIL not in redacted.stdout and "[redacted email]" in redacted.stdout
    target = mail_shop.folder / "out.csv"
    assert mail_shop.jobq("dlq", "export", "--format", "csv", "-o", str(target)).returncode == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 10 and PHONE not in target.read_text() and EMAIL not in target.read_text()
    faithful = mail_shop.jobq("dlq", "export", "--no-redact")
    stored = {row["id"]: row for row in map(json.loads, faithful.stdout.splitlines())}
    assert stored[MAIL_LETTER]["payload"]["kwargs"]["email"] == EMAIL and PHONE in faithful.stdout
    assert "--no-redact" in (help_text := mail_shop.jobq("dlq", "export", "--help").stdout)
    assert "backups" in help_text and "jobq dlq import" in " ".join(help_text.split())


def test_recover_shows_and_exports_redacted_unless_no_redact(mail_shop: Shop) -> None:
    answers = "\n".join(["1", "4", MAIL_LETTER, "7", "all", "out.jsonl", "q"]) + "\n"
    result = mail_shop.jobq("recover", input=answers, env=WIDE)
    assert result.returncode == 0, result.stderr
    exported = (mail_shop.folder / "out.jsonl").read_text()
    assert not [text for text in (result.stdout, exported) if PHONE in text or EMAIL in text]
    assert "[redacted email]" in result.stdout and "[redacted email]" in exported
    assert "(PII redacted; `jobq recover --no-redact` exports as stored)" in result.stdout
    raw = mail_shop.jobq("--no-redact", "recover", input=answers.replace("out.jsonl", "raw.jsonl"), env=WIDE)
    assert EMAIL in raw.stdout and EMAIL in (mail_shop.folder / "raw.jsonl").read_text()
    assert "to raw.jsonl (as stored)." in raw.stdout


def test_the_redact_table_of_the_configuration_file_adds_patterns_or_turns_it_off(mail_shop: Shop) -> None:
    (mail_shop.folder / "pyproject.toml").write_text('[tool.jobq.redact]\nkeys = ["^text$"]\n')
    letter = mail_shop.json("dlq", "inspect", MAIL_LETTER)
    assert letter["payload"]["kwargs"] == {"email": "[redacted]", "text": "[redacted]"}
    (mail_shop.folder / "jobq.toml").write_text("[redact]\nenabled = false\n")  # jobq.toml comes first
    assert mail_shop.json("dlq", "inspect", MAIL_LETTER)["payload"]["kwargs"]["email"] == EMAIL
    (mail_shop.folder / "jobq.toml").write_text('[redact]\nkeys = ["("]\n')
    result = mail_shop.jobq("dlq", "list")
    assert result.returncode == 2
    assert "jobq.toml [redact]: redact: '(' is not a valid regular expression" in one_error_line(result)
