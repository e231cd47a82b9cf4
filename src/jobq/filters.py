"""The dead-letter filters of the public API: the keyword arguments that ``app.dlq``'s methods take, typed, so
that a misspelt name (``app.dlq.list(tenat="acme")``) fails in the type checker, not only at run time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from jobq.job import ErrorClass, Resolution

When = datetime | timedelta | None
"""A point in time: a datetime, or a timedelta meaning that long ago."""


class DeadLetterFilters(TypedDict, total=False):
    """Which dead letters an ``app.dlq`` method applies to; each one left out (or None) means any."""

    tenant: str | None
    task: str | None
    queue: str | None
    error_class: ErrorClass | None
    fingerprint: str | None
    resolution: Resolution | None
    since: When
    until: When
    search: str | None
    unresolved: bool
    """Only letters still waiting for someone: ``open`` or ``pending_recovery``."""
    job_id: str | None
    """The letter a job became (a job dies at most once: its replay is a new job)."""
