"""The audit trail: every replay and abandon of a dead letter, kept after the letter itself moved on, and every
cancel of a job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from jobq.job import DeadLetterId

AuditAction = Literal["replayed", "abandoned", "purged", "cancelled"]
AUDIT_ACTIONS: tuple[AuditAction, ...] = ("replayed", "abandoned", "purged", "cancelled")


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change made to a dead letter, written in the same transaction as the change."""

    id: str
    dead_letter_id: DeadLetterId | None
    """None for a purge: one entry for all the letters it deleted."""
    at: datetime
    action: AuditAction
    by: str | None = None
    """Who made it, as the caller named them (None: not said, e.g. the recovery queue)."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """A replay: ``job_id``, ``force``, ``redrive_id`` (None by hand), and for edit-then-replay both
    ``original_payload`` and ``payload``. An abandon: ``note``. A purge: ``count`` and the ``filters``. A cancel
    (no letter): ``job_id`` and what it was (``queued`` or ``running``), or, by filter, ``count`` and ``filters``."""
