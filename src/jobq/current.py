"""``jobq.current_job()``: what a running handler may ask about its own job — above all, whether to stop.

An ``async`` handler is cancelled by the worker (``asyncio.CancelledError`` at its next ``await``); a ``def``
handler cannot be interrupted, so it polls ``jobq.current_job().cancelled`` between steps and returns when it is
set. The worker sets the value in the handler's context (a ``ContextVar``: the thread of a ``def`` handler, the
task of an ``async`` one), never in a global.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

from jobq.errors import JobqError
from jobq.job import ClaimedJob, JobId


@dataclass(slots=True)
class CurrentJob:
    """The job a handler is running: its id and attempt, and whether an operator asked it to stop."""

    id: JobId
    task: str
    attempt: int
    claimed: ClaimedJob = field(repr=False)
    """The job as its worker claimed it (its payload, options and lease), for integrations such as Django's."""
    _cancelled: bool = field(default=False, init=False, repr=False)  # a flag, not an Event: made for every job

    @property
    def cancelled(self) -> bool:
        """True once the job was cancelled (``app.cancel``): a ``def`` handler should return soon after."""
        return self._cancelled

    def ask_to_stop(self) -> None:
        """The worker's part: an operator cancelled the job (one thread writes the flag, the handler's reads it)."""
        self._cancelled = True


_current: ContextVar[CurrentJob | None] = ContextVar("jobq_current_job", default=None)


def current_job() -> CurrentJob:
    """The job this handler runs; JobqError outside a handler that a worker runs."""
    job = _current.get()
    if job is None:
        raise JobqError("jobq.current_job() is for handlers a worker runs; no job is running here")
    return job


def current_or_none() -> CurrentJob | None:
    """The job this handler runs, or None outside a handler (for code that runs both ways)."""
    return _current.get()


def running(job: CurrentJob | None) -> None:
    """Set (or clear, with None) the job of this thread or task: the runners call it around a handler."""
    _current.set(job)
