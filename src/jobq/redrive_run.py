"""One run of a redrive: replay its letters one at a time, while this run still drives it, and report."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass, field

from jobq.backends.contract import RedriveStore
from jobq.bulk import BulkResult, Pacer, Progress, replay_outcome
from jobq.clock import Clock
from jobq.errors import JobqError, RedriveStopped
from jobq.job import DeadLetterId, JobId
from jobq.redrive import Redrive, RedriveId, RedriveState

ReplayResult = BulkResult
"""What happened to one dead letter in a redrive (the name ``replay_many`` reports it under)."""


@dataclass(slots=True)
class ReplayReport:
    """The outcome of ``replay_many``: how many matched and what happened to each."""

    matched: int
    dry_run: bool = False
    results: list[ReplayResult] = field(default_factory=list)
    redrive_id: RedriveId | None = None
    """The redrive that records it (None for a dry run): its progress, outcome, cancel and resume."""
    state: RedriveState | None = None
    """How this run ended: ``finished``, ``cancelled``, or ``running`` when another run took it over."""

    @property
    def replayed(self) -> int:
        """How many became new jobs."""
        return sum(result.outcome == "replayed" for result in self.results)


ReplayOne = Callable[[DeadLetterId], JobId]
"""Replays one letter as a step of the redrive; raises AlreadyReplayed, NotFound or UnreadablePayload when it
cannot."""


def run_redrive(
    store: RedriveStore,
    clock: Clock,
    redrive: Redrive,
    letters: Iterable[DeadLetterId],
    replay: ReplayOne,
    progress: Progress | None,
) -> ReplayReport:
    """Replay ``letters`` (those after the redrive's cursor) while this run still drives the redrive, at most
    ``redrive.rate`` a second; then finish it. Every step is fenced on the redrive's state and owner in its own
    transaction, so a cancel or a take-over stops the run at its next letter, at no cost per letter."""
    owner = redrive.owner
    assert owner is not None, "a run drives a redrive it owns"
    report = ReplayReport(matched=redrive.matched, redrive_id=redrive.id)
    pacer = Pacer(redrive.rate)
    try:
        for dead_letter_id in letters:
            pacer.wait()
            result = _step(store, clock, redrive.id, owner, dead_letter_id, replay)
            if result is None:
                break  # cancelled, or taken over by a resume elsewhere
            report.results.append(result)
            if progress is not None:
                progress(report.results[-1])
        else:
            store.stop_redrive(redrive.id, state="finished", owner=owner, now=clock())
    except KeyboardInterrupt:
        # Ctrl-C is an operator's stop. Any other error leaves the redrive running, as a crash would: resumable.
        with suppress(JobqError):
            store.stop_redrive(redrive.id, state="cancelled", owner=owner, now=clock())
        raise
    current = store.get_redrive(redrive.id)
    report.state = None if current is None else current.state
    return report


def _step(
    store: RedriveStore,
    clock: Clock,
    redrive_id: RedriveId,
    owner: str,
    dead_letter_id: DeadLetterId,
    replay: ReplayOne,
) -> ReplayResult | None:
    """One letter: replayed (its progress counted in the replay's transaction), or passed over and counted so;
    None when the redrive is not this run's any more (and the letter was left alone)."""
    try:
        result = replay_outcome(dead_letter_id, lambda: replay(dead_letter_id))
    except RedriveStopped:
        return None
    if result.outcome == "replayed":
        return result
    # Replayed, resolved or purged by someone else since it matched, or its payload cannot be read: passed over.
    if not store.skip_in_redrive(redrive_id, owner=owner, cursor=dead_letter_id, now=clock()):
        return None
    return result
