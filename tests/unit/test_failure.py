"""failure_outcome: an attempt's error as stored, redacted at rest when a redactor is given."""

from __future__ import annotations

import time

import pytest

from jobq.classify import Classifier
from jobq.errors import UnknownTask
from jobq.fingerprint import MESSAGE_LIMIT
from jobq.job import ClaimedJob, DeadLettered, JobId, Lease, RetryLater
from jobq.redact import Redactor
from jobq.worker.failure import TRACEBACK_LIMIT, UNKNOWN_TASK_ATTEMPTS, Attempt, failure_outcome

PII = ("+15550001111", "kim@example.com")


def _raise(message: str) -> ValueError:
    """A raised (so tracebacked) ValueError carrying ``message``."""
    try:
        raise ValueError(message)
    except ValueError as exc:
        return exc


def _outcome(exc: BaseException, *, attempts: int, redactor: Redactor | None) -> RetryLater | DeadLettered:
    job = ClaimedJob(Lease(JobId("job-1"), 1), "sms.send", "default", {"args": [], "kwargs": {}}, attempts, 3)
    now = time.time()
    return failure_outcome(
        Attempt(job, "worker-1", now), exc, options=None, classifier=Classifier(), now=now, redactor=redactor
    )


def test_redactor_hides_pii_in_stored_message_and_traceback() -> None:
    exc = _raise("invalid number +15550001111 for kim@example.com")
    for attempts in (1, 3):  # a retry and a dead-lettering store the same error
        error = _outcome(exc, attempts=attempts, redactor=Redactor()).error
        assert error.message == "invalid number [redacted phone] for [redacted email]"
        assert "ValueError: invalid number [redacted phone] for [redacted email]" in error.traceback
        assert not any(value in error.message + error.traceback for value in PII)


def test_redacted_texts_stay_within_the_bounds_though_markers_are_longer_than_what_they_hide() -> None:
    error = _outcome(_raise("to x@y.io " * 2000), attempts=1, redactor=Redactor()).error
    assert len(error.message) <= MESSAGE_LIMIT and len(error.traceback) <= TRACEBACK_LIMIT
    assert "x@y.io" not in error.message + error.traceback
    assert error.traceback.rstrip().endswith("to [redacted email]")  # the tail, where the error is, is kept


def test_without_redactor_the_error_is_stored_as_raised() -> None:
    error = _outcome(_raise("invalid number +15550001111 for kim@example.com"), attempts=1, redactor=None).error
    assert error.message == "invalid number +15550001111 for kim@example.com"
    assert all(value in error.traceback for value in PII)


def test_fingerprint_is_the_same_with_and_without_redaction() -> None:
    exc = _raise("invalid number +15550001111 for kim@example.com")
    redacted = _outcome(exc, attempts=3, redactor=Redactor())
    raw = _outcome(exc, attempts=3, redactor=None)
    assert isinstance(redacted, DeadLettered) and isinstance(raw, DeadLettered)
    assert redacted.fingerprint == raw.fingerprint


def test_unknown_task_is_retried_with_a_deploys_backoff_then_dead_as_system_error() -> None:
    unknown = UnknownTask("no task named 'report.build' is registered in this worker")
    first = _outcome(unknown, attempts=1, redactor=None)
    assert isinstance(first, RetryLater)
    assert first.run_at - first.error.at.timestamp() == pytest.approx(10.0, abs=0.01)
    last = _outcome(unknown, attempts=UNKNOWN_TASK_ATTEMPTS, redactor=None)
    assert isinstance(last, DeadLettered)
    assert (last.error_class, last.max_attempts) == ("system_error", UNKNOWN_TASK_ATTEMPTS)


def test_worker_id_with_a_lone_surrogate_is_stored_as_valid_text() -> None:
    job = ClaimedJob(Lease(JobId("job-1"), 1), "sms.send", "default", {"args": [], "kwargs": {}}, 1, 3)
    now = time.time()
    outcome = failure_outcome(
        Attempt(job, "host\udcff\x00", now), _raise("x"), options=None, classifier=Classifier(), now=now
    )
    assert outcome.error.worker == "host\ufffd\ufffd"
