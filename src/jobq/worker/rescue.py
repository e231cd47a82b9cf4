"""Work that no live worker holds: jobs whose worker vanished, dead letters whose recovery cool-down has passed.

Any worker takes it on, every few seconds; the database lets one win each (fencing, and replay's own check).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jobq.backends.contract import QueueStore
from jobq.errors import AlreadyReplayed, NotFound, StorageError, WorkerLost
from jobq.job import ClaimedJob, DeadLettered, DeadLetterId, ExpiredLease, JobId, Outcome, RetryLater
from jobq.tally import Tally
from jobq.task import Task
from jobq.worker.failure import Attempt, FailurePolicy
from jobq.worker.recorder import FLUSH_BATCH, tally_attempt

log = logging.getLogger("jobq.worker")

RESCUE_EVERY = 5.0  # seconds between looks (at most; shorter leases look more often)


class Rescue:
    """Looks for lost jobs and due recoveries on behalf of one worker."""

    def __init__(
        self,
        store: QueueStore,
        tasks: Mapping[str, Task[Any, Any]],
        policy: FailurePolicy,
        *,
        replay: Callable[[DeadLetterId], JobId],
    ) -> None:
        self._store = store
        self._tasks = tasks
        self._policy = policy
        self._replay = replay
        """Replays a dead letter as the recovery queue (``app.dlq.replay``: its audit trail, its wake-up)."""

    def lost_jobs(self, now: float) -> list[Outcome]:
        """Record a ``WorkerLost`` attempt for each job whose lease ran out; returns the outcomes that took."""
        try:
            expired = self._store.expired(now=now, limit=FLUSH_BATCH)
            outcomes = [self._lost_outcome(lease, now) for lease in expired]
            tally = Tally()
            for lease, outcome in zip(expired, outcomes, strict=True):
                tally_attempt(tally, lease.queue, outcome)
            applied = self._store.record(outcomes, tally=tally.take()) if outcomes else []
        except StorageError as exc:
            log.error("Could not rescue lost jobs: %s", exc)
            return []
        except Exception:  # found again at the next look; the loop goes on
            log.exception("Could not rescue lost jobs")
            return []
        # A rescue that lost the race to the live owner is not news.
        return [outcome for outcome, ok in zip(outcomes, applied, strict=True) if ok]

    def recovery_queue(self, now: float) -> int:
        """Replay the dead letters whose cool-down has passed; how many this worker replayed."""
        try:
            due = self._store.due_for_recovery(now=now, limit=FLUSH_BATCH)
        except StorageError as exc:
            log.error("Could not look at the recovery queue: %s", exc)
            return 0
        replayed = 0
        for dead_letter_id in due:
            try:
                job_id = self._replay(dead_letter_id)
            except (AlreadyReplayed, NotFound):
                continue  # another worker got there first, or an operator acted
            except StorageError as exc:
                log.error("Could not replay dead letter %s from the recovery queue: %s", dead_letter_id, exc)
                break
            replayed += 1
            log.info("Dead letter %s replayed by the recovery queue as job %s", dead_letter_id, job_id)
        return replayed

    def alone_due(self, queues: Sequence[str], now: float) -> bool:
        """Is a job that must run alone due in ``queues``?"""
        try:
            return self._store.alone_due(queues=queues, now=now)
        except StorageError as exc:
            log.error("Could not look for jobs that must run alone: %s", exc)
            return False

    def _lost_outcome(self, expired: ExpiredLease, now: float) -> RetryLater | DeadLettered:
        job = ClaimedJob(expired.lease, expired.task, expired.queue, {}, expired.attempts, expired.max_attempts)
        attempt = Attempt(job, expired.worker or "unknown", expired.started_at or now)
        error = WorkerLost(f"worker {expired.worker} stopped renewing the lease of attempt {expired.attempts}")
        task = self._tasks.get(expired.task)
        return self._policy.outcome(attempt, error, task.options if task else None, now, expired_at=now)
