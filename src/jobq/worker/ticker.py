"""Periodic schedules' ticks, enqueued by every worker as one of its chores, and each tick once.

No leader: every worker works out for itself which ticks are due (``jobq.periodic``, from its own clock) and
offers them to the database, which records a tick and enqueues its job in one transaction, or finds the tick taken
by a faster worker and does nothing. A worker remembers the last tick it handled, so it asks the database only
when a tick comes due (and once at start, for ticks missed while no worker ran).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from jobq.backends.contract import PeriodicStore
from jobq.clock import Clock
from jobq.job import JobId, NewJob
from jobq.periodic import Schedule, ticks_to_enqueue

log = logging.getLogger("jobq.worker")

KEEP = 86_400.0  # seconds of ticks kept per schedule (its latest is always kept: it fences older ticks off)


class Ticker:
    """Enqueues the due ticks of an app's schedules."""

    def __init__(
        self,
        store: PeriodicStore,
        schedules: Mapping[str, Schedule],
        *,
        clock: Clock,
        new_job: Callable[[Schedule, float], NewJob],
    ) -> None:
        self._store = store
        self._schedules = dict(schedules)
        self._clock = clock
        self._new_job = new_job
        self._handled: dict[str, float] | None = None
        """The latest tick this worker handled per schedule (None until read from the database)."""

    @property
    def any(self) -> bool:
        """Whether the app has schedules at all."""
        return bool(self._schedules)

    def enqueue_due(self) -> list[JobId]:
        """Offer the ticks due now; returns the jobs this worker enqueued (others may have taken some ticks)."""
        now = self._clock()
        handled = self._handled if self._handled is not None else self._starting_points(now)
        offered = [
            (schedule.name, tick, self._new_job(schedule, tick))
            for schedule in self._schedules.values()
            for tick in ticks_to_enqueue(schedule, after=handled[schedule.name], now=now)
        ]
        enqueued = self._store.enqueue_ticks(offered, now=now, keep=KEEP) if offered else []
        # Only once the database has them (a failure raises: the next round offers them again).
        self._handled = {name: max(after, self._schedules[name].latest_at(now)) for name, after in handled.items()}
        for name, tick, job in offered:
            if job.id in enqueued:
                log.info("Periodic %s: enqueued job %s for the tick at %s", name, job.id, tick)
        return enqueued

    def _starting_points(self, now: float) -> dict[str, float]:
        """Where each schedule stands: its latest recorded tick; a schedule never run starts now (no tick before
        it existed is missed)."""
        recorded = self._store.last_ticks()
        return {
            name: recorded[name].tick if name in recorded else schedule.latest_at(now)
            for name, schedule in self._schedules.items()
        }
