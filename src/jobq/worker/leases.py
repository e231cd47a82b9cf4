"""The leases a worker holds, renewed by a thread of their own so that a busy handler cannot starve them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from jobq.backends.contract import QueueStore
from jobq.errors import StorageError
from jobq.job import JobId, Lease

log = logging.getLogger("jobq.worker")


class Leases:
    """Held from the claim until the job's outcome is on record."""

    def __init__(self, store: QueueStore, clock: Callable[[], float], *, lease: float) -> None:
        self._store = store
        self._clock = clock
        self._lease = lease
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
        """Renew the held leases every third of the lease until ``halt`` (a thread's target)."""
        interval = self._lease / 3
        while not halt.wait(interval):
            with self._lock:
                leases = list(self._held.values())
            if not leases:
                continue
            try:
                lost = self._store.extend(leases, until=self._clock() + self._lease)
            except StorageError as exc:
                log.error("Could not renew %d leases: %s", len(leases), exc)
                continue
            for lease in lost:
                log.warning("Job %s: lease lost (another worker took it over)", lease.job_id)
