"""What a worker does besides running jobs, from a thread of its own so that jobs never wait on it: enqueue the
ticks of periodic schedules, deliver the outbox to the hooks, raise alerts, and keep the dead-letter queue within
its quota.

Every worker does these; the database makes it safe (a tick is enqueued once, an outbox entry is claimed by one
worker, an alert fires once, a pruned letter is archived once), so there is no extra daemon to run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from jobq.alerting import Alerting, raise_alerts
from jobq.backends.contract import WorkerChoreStore
from jobq.clock import Clock
from jobq.errors import StorageError
from jobq.hooks import Hooks
from jobq.outbox import BATCH, Outbox, deliver_due, deliver_last
from jobq.quota import Quota, enforce_quota
from jobq.worker.ticker import Ticker

log = logging.getLogger("jobq.worker")

POLL = 1.0  # seconds between looks at the outbox when nothing woke the thread


class Chores:
    """The chores of one worker; ``run`` is its thread, ``finish`` a burst worker's last round."""

    def __init__(
        self,
        store: WorkerChoreStore,
        *,
        clock: Clock,
        hooks: Hooks | None,
        alerting: Alerting,
        quota: Quota | None,
        ticker: Ticker | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._ticker = ticker if ticker is not None and ticker.any else None
        self._wake = wake
        """Tells this process's worker that a tick's job was enqueued."""
        self._clock = clock
        self.hooks: Hooks | None = hooks if hooks is not None and hooks.sinks else None
        # Alerts travel through the hooks: with no sink to send them to, evaluating them would be wasted work.
        self.alerting: Alerting | None = alerting if self.hooks is not None and alerting.enabled else None
        self.quota: Quota | None = quota
        self._outbox = Outbox(store, self.hooks, clock, store.get_dead) if self.hooks is not None else None
        self.due = threading.Event()
        """Set when hook deliveries may be waiting (a dead letter was just committed)."""
        self._next: dict[str, float] = {}
        """When this worker's own timer next looks at each shared chore."""

    @property
    def any(self) -> bool:
        """Whether this worker has chores at all."""
        return self.hooks is not None or self.quota is not None or self._ticker is not None

    def run(self, halt: threading.Event) -> None:
        """Do the chores as they come due until ``halt`` (which also cuts a batch of deliveries short)."""
        while not halt.is_set():
            self._tick()
            self._shared_chores()
            deliver = partial(deliver_due, halt=halt)
            if self._outbox is None or _guarded("deliver hooks", deliver, self._outbox) != BATCH:
                self.due.wait(POLL)
                self.due.clear()

    def finish(self) -> None:
        """A burst worker's last round: every chore once, then what the hooks have due, within a short budget
        (``jobq.outbox.LAST_PASS_BUDGET``): a hanging receiver must not keep a stopping worker.
        """
        self._next.clear()
        self._shared_chores(every_chore=True)
        if self._outbox is not None:
            _guarded("deliver hooks", deliver_last, self._outbox)

    def _tick(self) -> None:
        """Enqueue the periodic ticks that came due (every round: the database keeps each tick to one worker)."""
        if self._ticker is not None and _guarded("enqueue periodic ticks", self._ticker.enqueue_due):
            self._wake()

    def _shared_chores(self, *, every_chore: bool = False) -> None:
        """Alerts and the quota, when due.

        They are shared: when this worker's clock says they are due, it still takes the turn from the database,
        so that of all the workers one does each (``every_chore`` skips that: a burst worker's last round does
        everything once).
        """
        now = self._clock()
        if self.quota is not None and self._due("quota", self.quota.every, now, every_chore):
            quota = partial(enforce_quota, clock=self._clock)
            _guarded("keep the DLQ within its quota", quota, self._store, self.quota)
        if self.alerting is not None and self._due("alerts", self.alerting.every, now, every_chore):
            alerts = partial(raise_alerts, clock=self._clock)
            _guarded("evaluate alerts", alerts, self._store, self.alerting)

    def _due(self, chore: str, every: float, now: float, every_chore: bool) -> bool:
        """Whether this worker does ``chore`` now: its own timer says so, and it took the turn (or must)."""
        if now < self._next.get(chore, 0.0):
            return False
        self._next[chore] = now + every
        if every_chore:
            return True
        # The turn comes back a little early, so that the first worker whose own timer fires takes it: the chore
        # runs about once a period, whatever the number of workers and however their timers drift.
        claim = partial(self._store.claim_chore, chore, now=now, every=every * 0.9)
        return bool(_guarded(f"take the turn to {chore}", claim))


def _guarded(what: str, chore: Callable[..., Any], *args: Any) -> Any:
    """Run a chore; its failure is logged, never the end of the thread (the next round tries again)."""
    try:
        return chore(*args)
    except (StorageError, OSError) as exc:  # the database, or the archive's disk: full, gone, not allowed
        log.error("Could not %s: %s", what, exc)
    except Exception:  # a bug, or a full disk, in one chore must not stop the others
        log.exception("Could not %s", what)
    return None
