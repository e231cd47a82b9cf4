"""Exceptions that users raise inside tasks, or catch from jobq."""

from __future__ import annotations


class JobqError(Exception):
    """Base class of every error jobq raises itself."""


class PayloadError(JobqError, TypeError):
    """A payload that is not JSON, or that the task's signature cannot accept."""


class OptionError(JobqError, ValueError):
    """An enqueue option (queue, tenant, priority, delay, run_at…) of the wrong type or out of range."""


class UnreadablePayload(PayloadError):
    """A dead letter's stored payload could not be read back: it replays only with an edited payload."""


class UnknownTask(JobqError, LookupError):
    """A job names a task that is not registered in this process."""


class NotFound(JobqError, LookupError):
    """No job or dead letter with that id."""


class AlreadyReplayed(JobqError):
    """A dead letter that was replayed already; pass ``force=True`` to replay it again."""


class RedriveStopped(JobqError):
    """The redrive a replay was a step of was cancelled or taken over: the replay did not happen."""


class StorageError(JobqError):
    """The database refused or could not be reached (locked, full, gone)."""


class Retry(JobqError):
    """Raise inside a task to ask for another attempt, optionally after ``after`` seconds."""

    def __init__(self, message: str = "retry requested", *, after: float | None = None) -> None:
        super().__init__(message)
        self.after = after


class Permanent(JobqError):
    """Raise inside a task for a failure no retry can fix: the job goes straight to the DLQ."""


class WorkerLost(JobqError):
    """Recorded (never raised in user code) when a job's lease expired because its worker vanished."""


class JobTimeout(JobqError, TimeoutError):
    """Recorded when a job ran longer than its task's ``timeout``."""
