"""The leases a worker holds, renewed by a thread of their own so that a busy handler cannot starve them.

The same thread tells the worker which of its running jobs an operator cancelled: it looks every second (one
read for all the leases held, none while nothing runs), and renews the leases every third of a lease.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from jobq.backends.contract import QueueStore
from jobq.errors import StorageError
from jobq.job import JobId, Lease

log = logging.getLogger("jobq.worker")

CANCEL_LOOK = 1.0  # seconds between looks for cancelled jobs: how soon a cancel reaches a running handler


class Leases:
    """Held from the claim until the job's outcome is on record."""

    def __init__(
        self,
        store: QueueStore,
        clock: Callable[[], float],
        *,
        lease: float,
        cancelled: Callable[[Sequence[Lease]], None] = lambda leases: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._lease = lease
        self._cancelled = cancelled
        self._held: dict[JobId, Lease] = {}
        self._lock = threading.Lock()

    def hold(self, leases: Iterable[Lease]) -> None:
        with self._lock:
            for lease in leases:
                self._held[lease.job_id] = lease

    def release(self, leases: Iterable[Lease]) -> None:
        with self._lock:
            for lease in leases:
                self._held.pop(lease.job_id, None)

    def heartbeat(self, halt: threading.Event) -> None:
        """Renew the held leases every third of the lease, and look for cancels every second, until ``halt`` (a
        thread's target)."""
        renew_every = self._lease / 3
        renew_at = time.monotonic() + renew_every
        while not halt.wait(min(CANCEL_LOOK, renew_every)):
            with self._lock:
                leases = list(self._held.values())
            if not leases:
                continue
            try:
                if time.monotonic() >= renew_at:
                    renew_at = time.monotonic() + renew_every
                    self._renew(leases)
                asked = self._store.cancels_requested(leases)
            except StorageError as exc:
                log.error("Could not renew or look at %d leases: %s", len(leases), exc)
                continue
            if asked:
                self._cancelled(asked)

    def _renew(self, leases: Sequence[Lease]) -> None:
        # Not renewed: taken over by another worker, or finished meanwhile (its outcome was written after the
        # leases were read). Only the first is news, and the outcome's fence reports it when it is written.
        for lease in self._store.extend(leases, until=self._clock() + self._lease):
            log.debug("Job %s: lease not renewed (finished, or taken over by another worker)", lease.job_id)
