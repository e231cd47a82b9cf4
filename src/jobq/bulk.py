"""Changes to many dead letters, once for every front end: what became of each letter, pacing, and the rule of
which letters an action would change (the count a confirmation shows before anything changes).

``app.dlq.replay_ids``, ``abandon_ids``, ``abandon_many`` and ``preview`` are the entry points; the CLI, the
HTTP API and the dashboard only parse their input and render these records.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, Unpack, get_args

from jobq.errors import AlreadyReplayed, NotFound, UnreadablePayload
from jobq.filters import DeadLetterFilters
from jobq.job import DeadLetter, DeadLetterId, JobId, Payload


class Page(list[DeadLetter]):
    """One page of dead letters; ``next_cursor`` fetches the next (None on the last page)."""

    next_cursor: DeadLetterId | None = None


class Letters(Protocol):
    """What a bulk operation does to letters one at a time: ``app.dlq`` (``DeadLetterQueue``) is the one."""

    page_size: int

    def get(self, dead_letter_id: DeadLetterId) -> DeadLetter | None: ...

    def count(self, **filters: Unpack[DeadLetterFilters]) -> int: ...

    def list(
        self, *, limit: int = 50, cursor: DeadLetterId | None = None, **filters: Unpack[DeadLetterFilters]
    ) -> Page: ...

    def replay(
        self,
        dead_letter_id: DeadLetterId,
        *,
        force: bool = False,
        payload: Payload | None = None,
        by: str | None = None,
    ) -> JobId: ...

    def abandon(self, dead_letter_id: DeadLetterId, *, note: str | None = None, by: str | None = None) -> bool: ...


BulkOutcome = Literal[
    "replayed", "abandoned", "already_replayed", "already_resolved", "not_found", "unreadable_payload"
]
"""What became of one letter: changed (``replayed``, ``abandoned``), or why it was left alone."""
BULK_OUTCOMES: tuple[BulkOutcome, ...] = get_args(BulkOutcome)
Action = Literal["replay", "abandon", "purge"]
"""What an operator does to dead letters in bulk."""
ACTIONS: tuple[Action, ...] = get_args(Action)
WAITING = ("open", "pending_recovery")
"""Resolutions of letters still waiting for someone: what an abandon changes."""
REPLAYED = ("replayed", "recovered")
"""Resolutions a replay refuses unless forced."""


@dataclass(frozen=True, slots=True)
class BulkResult:
    """What happened to one dead letter in a bulk replay or abandon (``job_id``: the new job of a replay)."""

    dead_letter_id: DeadLetterId
    outcome: BulkOutcome
    job_id: JobId | None = None

    @property
    def changed(self) -> bool:
        """Whether the letter was replayed or abandoned."""
        return self.outcome in ("replayed", "abandoned")


@dataclass(slots=True)
class BulkReport:
    """A replay or abandon of many letters: how many were selected and what happened to each."""

    matched: int
    dry_run: bool = False
    results: list[BulkResult] = field(default_factory=list)
    next_cursor: DeadLetterId | None = None
    """With a ``limit``: the cursor of the next page to act on (None on the last)."""

    @property
    def changed(self) -> int:
        """How many were replayed or abandoned."""
        return sum(result.changed for result in self.results)


Progress = Callable[[BulkResult], None]
"""Called after each letter a bulk change handled."""


class Pacer:
    """At most ``rate`` steps a second (no limit without a rate): call ``wait`` before each step."""

    def __init__(self, rate: float | None) -> None:
        self._pause = 1.0 / rate if rate else 0.0
        self._next = 0.0

    def wait(self) -> None:
        """Sleep until the next step is due; the first is due at once."""
        if not self._pause:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(now, self._next) + self._pause


def replay_outcome(dead_letter_id: DeadLetterId, replay: Callable[[], JobId]) -> BulkResult:
    """Replay one letter of a bulk change; a letter that cannot be replayed is an outcome, never an error."""
    try:
        return BulkResult(dead_letter_id, "replayed", replay())
    except AlreadyReplayed:
        return BulkResult(dead_letter_id, "already_replayed")
    except NotFound:
        return BulkResult(dead_letter_id, "not_found")
    except UnreadablePayload:
        return BulkResult(dead_letter_id, "unreadable_payload")


def abandon_outcome(dead_letter_id: DeadLetterId, abandon: Callable[[], bool]) -> BulkResult:
    """Abandon one letter of a bulk change: abandoned, already resolved, or gone."""
    try:
        return BulkResult(dead_letter_id, "abandoned" if abandon() else "already_resolved")
    except NotFound:
        return BulkResult(dead_letter_id, "not_found")


def each(
    report: BulkReport, ids: Iterable[DeadLetterId], change: Callable[[DeadLetterId], BulkResult], *,
    rate: float | None = None, progress: Progress | None = None,
) -> BulkReport:  # fmt: skip
    """Apply ``change`` to each id, paced, recording every result in ``report`` (and telling ``progress``)."""
    pacer = Pacer(rate)
    for dead_letter_id in ids:
        pacer.wait()
        report.results.append(change(dead_letter_id))
        if progress is not None:
            progress(report.results[-1])
    return report


def replay_ids(
    dlq: Letters, ids: Sequence[DeadLetterId], *, force: bool, by: str | None, rate: float | None,
    payload: Payload | None, dry_run: bool, progress: Progress | None,
) -> BulkReport:  # fmt: skip
    """``app.dlq.replay_ids``: see there."""
    unique = list(dict.fromkeys(ids))
    report = BulkReport(matched=found(dlq, unique), dry_run=dry_run)
    if dry_run:
        return report

    def replay(dead_letter_id: DeadLetterId) -> BulkResult:
        return replay_outcome(dead_letter_id, lambda: dlq.replay(dead_letter_id, force=force, payload=payload, by=by))

    return each(report, unique, replay, rate=rate, progress=progress)


def abandon_ids(
    dlq: Letters, ids: Sequence[DeadLetterId], *, note: str | None, by: str | None, dry_run: bool,
    progress: Progress | None,
) -> BulkReport:  # fmt: skip
    """``app.dlq.abandon_ids``: see there."""
    unique = list(dict.fromkeys(ids))
    report = BulkReport(matched=found(dlq, unique), dry_run=dry_run)
    return report if dry_run else each(report, unique, abandoner(dlq, note=note, by=by), progress=progress)


def abandon_many(
    dlq: Letters, *, note: str | None, by: str | None, limit: int | None, cursor: DeadLetterId | None,
    dry_run: bool, progress: Progress | None, filters: DeadLetterFilters,
) -> BulkReport:  # fmt: skip
    """``app.dlq.abandon_many``: see there."""
    if "resolution" not in filters:
        filters.setdefault("unresolved", True)
    report = BulkReport(matched=dlq.count(**filters), dry_run=dry_run)
    if dry_run:
        return report
    ids: Iterable[DeadLetterId]
    if limit is None:
        ids = _pages(dlq, cursor, filters)
    else:
        page = dlq.list(limit=limit, cursor=cursor, **filters)
        ids, report.next_cursor = [letter.id for letter in page], page.next_cursor
    return each(report, ids, abandoner(dlq, note=note, by=by), progress=progress)


def _pages(dlq: Letters, cursor: DeadLetterId | None, filters: DeadLetterFilters) -> Iterator[DeadLetterId]:
    """Every match after ``cursor``, a page at a time; the cursor moves down the ids, so a changed letter never
    comes back."""
    while True:
        page = dlq.list(limit=dlq.page_size, cursor=cursor, **filters)
        yield from (letter.id for letter in page)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def abandoner(dlq: Letters, *, note: str | None, by: str | None) -> Callable[[DeadLetterId], BulkResult]:
    """Abandons one letter with ``note``, as ``by``."""
    return lambda dead_letter_id: abandon_outcome(dead_letter_id, lambda: dlq.abandon(dead_letter_id, note=note, by=by))


def found(dlq: Letters, ids: Sequence[DeadLetterId]) -> int:
    """How many of ``ids`` are dead letters."""
    return sum(dlq.get(dead_letter_id) is not None for dead_letter_id in ids)


@dataclass(frozen=True, slots=True)
class Preview:
    """How many letters an action would change now, out of how many it targets."""

    changes: int
    targets: int

    @property
    def skipped(self) -> int:
        """Targets the action leaves alone (already replayed, already resolved, gone)."""
        return self.targets - self.changes


def changes(action: Action, letter: DeadLetter, *, force: bool = False) -> bool:
    """Whether ``action`` changes ``letter``: a replay takes any letter not replayed yet (any with ``force``), an
    abandon only letters still waiting, a purge every one."""
    if action == "purge" or (action == "replay" and force):
        return True
    if action == "replay":
        return letter.resolution not in REPLAYED
    return letter.resolution in WAITING


def preview_ids(dlq: Letters, action: Action, ids: Sequence[DeadLetterId], *, force: bool) -> Preview:
    """What ``action`` would change among ``ids`` (one that is gone changes nothing)."""
    letters = [dlq.get(dead_letter_id) for dead_letter_id in ids]
    changed = sum(letter is not None and changes(action, letter, force=force) for letter in letters)
    return Preview(changed, len(ids))


def preview_filter(dlq: Letters, action: Action, *, force: bool, filters: DeadLetterFilters) -> Preview:
    """What ``action`` would change among the letters matching ``filters``: the rule of ``changes``, counted."""
    targets = dlq.count(**filters)
    if action == "purge" or (action == "replay" and force):
        return Preview(targets, targets)
    if action == "replay" and "resolution" in filters:  # as replay_many: that resolution, unforced
        return Preview(0 if filters["resolution"] in REPLAYED else targets, targets)
    waiting: DeadLetterFilters = {**filters, "unresolved": True}
    return Preview(dlq.count(**waiting), targets)
