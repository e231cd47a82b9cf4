"""The job a handler is running, for code that needs more than its arguments (e.g. Django's ``TaskContext``).

A context variable, set by the worker's runners around each call: each thread, and each asyncio task, sees
its own job. None outside a handler.
"""

from __future__ import annotations

from contextvars import ContextVar

from jobq.job import ClaimedJob

_running: ContextVar[ClaimedJob | None] = ContextVar("jobq_running_job", default=None)


def running_job() -> ClaimedJob | None:
    """The claimed job whose handler called this (its id, attempt number, payload), or None outside a handler."""
    return _running.get()


def set_running_job(job: ClaimedJob | None) -> None:
    """Set by the runner before a handler starts (and reset after): nothing else writes it."""
    _running.set(job)
