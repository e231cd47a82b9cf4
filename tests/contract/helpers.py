"""Building blocks for contract tests: new jobs, outcomes and letters with sensible defaults."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jobq.job import (
    AttemptError,
    ClaimedJob,
    DeadLettered,
    DeadLetterId,
    JobId,
    NewJob,
    new_id,
)

NOW = 1_800_000_000.0


def new_job(**overrides: Any) -> NewJob:
    """A due job on the default queue."""
    values: dict[str, Any] = {
        "id": JobId(new_id()),
        "task": "tasks.send",
        "queue": "default",
        "payload": {"args": [], "kwargs": {"to": "+15550100"}},
        "max_attempts": 3,
        "run_at": NOW,
        "created_at": NOW,
    }
    values.update(overrides)
    return NewJob(**values)


def error(attempt: int = 1, message: str = "boom") -> AttemptError:
    """An attempt error."""
    return AttemptError(
        attempt=attempt,
        at=datetime.fromtimestamp(NOW, UTC),
        error_type="RuntimeError",
        message=message,
        traceback="Traceback ...",
        worker="w1",
        duration=0.5,
    )


def dead_lettered(
    job: ClaimedJob, *, error_class: str = "unknown", fingerprint: str = "f1", at: float = NOW
) -> DeadLettered:
    """The outcome that dead-letters a claimed job."""
    return DeadLettered(
        job.lease,
        error(job.attempts),
        error_class=error_class,  # type: ignore[arg-type]
        fingerprint=fingerprint,
        dead_letter_id=DeadLetterId(new_id()),
        at=at,
        max_attempts=job.max_attempts or 3,
    )
