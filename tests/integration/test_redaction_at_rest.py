"""Redaction at rest: with ``App(redact_at_rest=True)``, a real worker stores errors without their PII."""

from __future__ import annotations

import pytest

import jobq

from .harness import get_letter, work

pytestmark = pytest.mark.parametrize("url", ["sqlite-file", "postgres"], indirect=True)

PII = ("+15550001111", "kim@example.com")


def _dead_letter(url: str, *, redact_at_rest: bool) -> jobq.DeadLetter:
    """The newest dead letter: a job whose handler raises a message full of PII, as stored by a burst worker."""
    with jobq.App(url, redact_at_rest=redact_at_rest) as app:

        @app.task(name="sms.send", max_attempts=2, backoff=jobq.Fixed(0.0))
        def send(to: str) -> None:
            raise ValueError(f"invalid number {to} for kim@example.com")

        send.enqueue(to="+15550001111")
        work(app)
        (newest,) = app.dlq.list(limit=1)
        return get_letter(app, newest.id)


def _stored_texts(letter: jobq.DeadLetter) -> list[str]:
    return [letter.error_message, letter.error_traceback, *(t for e in letter.errors for t in (e.message, e.traceback))]


def test_worker_stores_error_message_history_and_traceback_redacted(url: str) -> None:
    letter = _dead_letter(url, redact_at_rest=True)
    assert letter.error_message == "invalid number [redacted phone] for [redacted email]"
    assert letter.errors and all(error.message == letter.error_message for error in letter.errors)
    assert "[redacted phone]" in letter.error_traceback
    assert not [text for text in _stored_texts(letter) if any(value in text for value in PII)]
    assert letter.payload["kwargs"] == {"to": "+15550001111"}  # the payload is kept whole: a replay needs it


def test_without_redact_at_rest_the_stored_error_keeps_its_text_and_groups_the_same(url: str) -> None:
    raw = _dead_letter(url, redact_at_rest=False)
    assert raw.error_message == "invalid number +15550001111 for kim@example.com"
    assert all(value in raw.error_traceback for value in PII)
    assert all(any(value in error.message for error in raw.errors) for value in PII)
    redacted = _dead_letter(url, redact_at_rest=True)  # the same failure, stored redacted this time
    assert redacted.error_message != raw.error_message
    assert redacted.fingerprint == raw.fingerprint
