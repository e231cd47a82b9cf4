"""Records as JSON values and back: the shapes the CLI, the API and exports share."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from jobq.errors import JobqError
from jobq.job import AttemptError, DeadLetter, DeadLetterId, JobId
from jobq.serialize import dead_letter_from_dict, dead_letter_to_dict

AT = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def letter() -> DeadLetter:
    return DeadLetter(
        id=DeadLetterId("01DEAD"),
        job_id=JobId("01JOB"),
        task="tasks.send",
        queue="sms",
        payload={"args": [], "kwargs": {"to": "+15550100"}},
        attempts=3,
        max_attempts=3,
        error_type="TimeoutError",
        error_message="read timed out",
        error_traceback="Traceback ...",
        error_class="recoverable",
        fingerprint="abc",
        failed_at=AT,
        tenant="acme",
        errors=(AttemptError(1, AT, "TimeoutError", "read timed out", "tb", "w1", 0.25),),
    )


def test_dead_letter_has_the_spec_keys_with_iso_times() -> None:
    data = dead_letter_to_dict(letter())
    for key in ("id", "job_id", "task", "queue", "tenant", "key", "payload", "attempts", "errors", "error_type",
                "error_message", "error_class", "fingerprint", "failed_at", "resolution", "replayed_at",
                "replayed_as"):  # fmt: skip
        assert key in data, key
    assert data["failed_at"] == "2026-11-25T12:00:00+00:00"
    assert set(data["errors"][0]) >= {"attempt", "at", "error_type", "message", "traceback"}
    json.dumps(data)  # plain JSON values only


def test_dead_letter_round_trips_through_json() -> None:
    original = letter()
    assert dead_letter_from_dict(json.loads(json.dumps(dead_letter_to_dict(original)))) == original


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"error_class": "fatal"}, "unknown error_class"),
        ({"failed_at": "yesterday"}, "failed_at"),
        ({"attempts": "many"}, "malformed"),
    ],
)
def test_malformed_letters_fail_with_one_line(change: dict[str, object], message: str) -> None:
    data = {**dead_letter_to_dict(letter()), **change}
    with pytest.raises(JobqError, match=message):
        dead_letter_from_dict(data)


def test_missing_field_is_named() -> None:
    data = dead_letter_to_dict(letter())
    del data["task"]
    with pytest.raises(JobqError, match="missing the field 'task'"):
        dead_letter_from_dict(data)
