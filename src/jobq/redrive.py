"""Redrives: a ``replay_many`` by filter kept as a record — its progress, and what became of its replays."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NewType

from jobq.job import DeadLetterId

RedriveId = NewType("RedriveId", str)

RedriveState = Literal["running", "cancelled", "finished"]
REDRIVE_STATES: tuple[RedriveState, ...] = ("running", "cancelled", "finished")


@dataclass(frozen=True, slots=True)
class Redrive:
    """A redrive (``replay_many`` by filter, tracked): who started it, on which letters, how far it got, and
    whether it still runs."""

    id: RedriveId
    state: RedriveState
    """``running`` also when its process died: ``resume_redrive`` takes it over."""
    filters: Mapping[str, Any]
    """The dead-letter filter it replays, times in unix seconds: a resume replays the same letters."""
    matched: int
    """How many letters matched when it started."""
    created_at: datetime
    updated_at: datetime
    replayed: int = 0
    skipped: int = 0
    """Letters it passed over: replayed or resolved by someone else meanwhile, or purged."""
    force: bool = False
    rate: float | None = None
    """Replays a second at most (None: as fast as the database goes)."""
    cursor: DeadLetterId | None = None
    """The last letter it handled (it walks them newest first): a resume continues after it."""
    owner: str | None = None
    """The run that drives it (host, process, run token)."""
    started_by: str | None = None


@dataclass(frozen=True, slots=True)
class RedriveOutcome:
    """What became of the jobs a redrive made from the letters of one fingerprint."""

    fingerprint: str
    replayed: int
    succeeded: int = 0
    died_again: int = 0
    pending: int = 0
    """Still queued (or scheduled for a retry) or running."""
    unknown: int = 0
    """Their job was cleared from the jobs table, and it left no dead letter."""
    died_with: Mapping[str, int] = field(default_factory=dict)
    """The fingerprints of the failures they died with again, and how many each."""


OutcomeRow = tuple[str, str | None, str | None, int]
"""``(fingerprint of the replayed letter, its job's status or None, fingerprint it died with or None, count)``."""

_BUCKETS = {"succeeded": "succeeded", "dead": "died_again", "queued": "pending", "running": "pending"}


def outcomes(rows: Iterable[OutcomeRow]) -> list[RedriveOutcome]:
    """Rows counted by job state → one outcome per fingerprint, largest first."""
    counts: dict[str, Counter[str]] = {}
    died_with: dict[str, Counter[str]] = {}
    for fingerprint, status, again, n in rows:
        # A new dead letter says "died again" even when its job was cleared since.
        bucket = "died_again" if again is not None else _BUCKETS.get(status or "", "unknown")
        counts.setdefault(fingerprint, Counter())[bucket] += n
        if again is not None:
            died_with.setdefault(fingerprint, Counter())[again] += n
    found = [
        RedriveOutcome(
            fingerprint=fingerprint,
            replayed=sum(count.values()),
            succeeded=count["succeeded"],
            died_again=count["died_again"],
            pending=count["pending"],
            unknown=count["unknown"],
            died_with=dict(died_with.get(fingerprint, Counter()).most_common()),
        )
        for fingerprint, count in counts.items()
    ]
    return sorted(found, key=lambda outcome: (-outcome.replayed, outcome.fingerprint))
