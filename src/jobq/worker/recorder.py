"""Outcomes on their way to the database: grouped, written with the next claim, on disk within ``FLUSH_AGE``.

A write that carries a claim does not wait for the disk: against a crash of this process it is as good. One
write every ``FLUSH_AGE`` waits (and syncs those before it: the log is in order) and carries the tally, so
what finished is on disk within ``FLUSH_AGE`` — as when outcomes were only grouped — and a power loss can
only make the last of them run again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from jobq.backends.contract import QueueStore
from jobq.errors import StorageError
from jobq.job import DeadLettered, Outcome, Succeeded
from jobq.tally import Key as TallyKey
from jobq.tally import Tally
from jobq.worker.failure import Attempt
from jobq.worker.leases import Leases

log = logging.getLogger("jobq.worker")

FLUSH_BATCH = 256  # outcomes recorded per transaction at most
FLUSH_AGE = 0.05  # seconds an outcome may wait to be grouped with others, and a write to be synced
STORAGE_RETRY = 0.5  # seconds to wait after the database refused a write


@dataclass(frozen=True, slots=True)
class Batch:
    """Outcomes taken for one write, and whether that write waits for the disk (then it carries the tally)."""

    outcomes: list[Outcome]
    tally: dict[TallyKey, float]
    durable: bool


class Recorder:
    """Keeps outcomes until they are written; ``count`` hears how each write went, outcome by outcome."""

    def __init__(
        self,
        store: QueueStore,
        leases: Leases,
        *,
        clock: Callable[[], float],
        halt: threading.Event,
        count: Callable[[Outcome, bool], None],
    ) -> None:
        self._store = store
        self._leases = leases
        self._clock = clock
        self._halt = halt
        self._count = count
        self._pending: list[Outcome] = []
        self._pending_since = 0.0
        self._unsynced_since: float | None = None  # the first write since the last durable one that did not wait
        self._tally = Tally()

    @property
    def waiting(self) -> bool:
        """Are outcomes waiting to be written?"""
        return bool(self._pending)

    def moments(self) -> list[float]:
        """When a write becomes due, for the loop to wake up at."""
        due = [self._pending_since + FLUSH_AGE] if self._pending else []
        return due + ([self._unsynced_since + FLUSH_AGE] if self._unsynced_since is not None else [])

    def attempt(self, attempt: Attempt, finished: float, outcome: Outcome) -> None:
        """How an attempt ended, tallied (an attempt that ran counts, even if fenced off later)."""
        queue = attempt.job.queue
        tally_attempt(self._tally, queue, outcome)
        self._tally.observe("job_duration_seconds", queue, finished - attempt.started)
        self._tally.observe("queue_wait_seconds", queue, attempt.started - attempt.job.run_at)
        self.add(outcome)

    def add(self, outcome: Outcome) -> None:
        """An outcome to write, untallied (a job given back, not run)."""
        if not self._pending:
            self._pending_since = self._clock()
        self._pending.append(outcome)
        if len(self._pending) >= FLUSH_BATCH:
            self.flush(force=True)

    def take(self, now: float) -> Batch:
        """The waiting outcomes, for a write that also claims jobs."""
        durable = self._unsynced_since is not None and now - self._unsynced_since >= FLUSH_AGE
        outcomes, self._pending = self._pending, []
        return Batch(outcomes, self._tally.take() if durable else {}, durable)

    def written(self, batch: Batch, applied: Sequence[bool], now: float) -> None:
        """``batch`` is in the database: ``applied`` says which outcomes took (the others were fenced off)."""
        if batch.durable:
            self._unsynced_since = None
        elif batch.outcomes and self._unsynced_since is None:
            self._unsynced_since = now
        self._settle(batch.outcomes, applied)

    def flush(self, *, force: bool = False) -> None:
        """Write waiting outcomes (and sync earlier writes) in one durable transaction, when due."""
        now = self._clock()
        due = self._pending and (force or now - self._pending_since >= FLUSH_AGE)
        unsynced = self._unsynced_since is not None and (force or now - self._unsynced_since >= FLUSH_AGE)
        if not (due or unsynced):
            return
        outcomes, self._pending = self._pending, []
        batch = Batch(outcomes, self._tally.take(), durable=True)
        try:
            applied = self._store.record(outcomes, tally=batch.tally)
        except Exception as exc:  # noqa: BLE001 - the outcomes are kept or settled one by one, never lost
            self.failed(batch, exc, doing=f"record {len(outcomes)} outcomes")
            return
        self.written(batch, applied, now)

    def failed(self, batch: Batch, exc: Exception, *, doing: str) -> None:
        """A write failed: write its outcomes one by one, so that one that cannot be stored loses no other.

        A refused write (locked, full, gone) is tried again later; an outcome that cannot be written at all
        (a value the driver rejects) is given up to the rescue: its lease runs out and another worker records
        the attempt as lost. Nothing is lost either way.
        """
        self._tally.add(batch.tally)
        outcomes = batch.outcomes
        if not outcomes or (isinstance(exc, StorageError) and len(outcomes) == 1):
            self._retry_later(outcomes, doing, exc)
            return
        for number, outcome in enumerate(outcomes):
            try:
                applied = self._store.record([outcome])
            except StorageError as error:  # the database, not this outcome: keep the rest for later
                self._retry_later(outcomes[number:], doing, error)
                return
            except Exception:  # one outcome's bad value must not stop the worker
                log.exception("Job %s: its outcome cannot be stored; its lease will run out", outcome.lease.job_id)
                self._leases.release([outcome.lease])
                continue
            self._settle([outcome], applied)

    def _retry_later(self, outcomes: list[Outcome], doing: str, exc: Exception) -> None:
        log.error("Could not %s, will retry: %s", doing, exc)
        self._pending = outcomes + self._pending
        self._halt.wait(STORAGE_RETRY)

    def _settle(self, outcomes: Sequence[Outcome], applied: Sequence[bool]) -> None:
        self._leases.release(outcome.lease for outcome in outcomes)
        for outcome, ok in zip(outcomes, applied, strict=True):
            self._count(outcome, ok)


def tally_attempt(tally: Tally, queue: str, outcome: Outcome) -> None:
    """Count an attempt that ended with ``outcome``."""
    tally.count("processed", queue)
    if isinstance(outcome, Succeeded):
        tally.count("succeeded", queue)
        return
    tally.count("failed", queue)
    if isinstance(outcome, DeadLettered):
        tally.count("dead_lettered", queue)
