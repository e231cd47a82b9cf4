"""The values the filter inputs offer (tasks, queues, tenants seen in the DLQ), remembered for a minute.

They come from ``app.dlq.groups``: cheap on an index, but three of them on every page of a big DLQ would
cost more than the page itself, and a suggestion a minute old serves as well.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Literal

from jobq.app import App

Kind = Literal["task", "queue", "tenant"]
KINDS: tuple[Kind, ...] = ("task", "queue", "tenant")
MAX_VALUES = 200


class Suggestions:
    """Distinct tasks, queues and tenants of the DLQ, refreshed at most every ``ttl`` seconds."""

    def __init__(self, app: App, *, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, list[str]] = {}
        self._at = -float("inf")

    def get(self) -> dict[str, list[str]]:
        """``{"task": [...], "queue": [...], "tenant": [...]}``, most common first."""
        with self._lock:
            if self.clock() - self._at > self.ttl:
                self._values = {
                    kind: [group.value for group in self.app.dlq.groups(kind, limit=MAX_VALUES) if group.value]
                    for kind in KINDS
                }
                self._at = self.clock()
            return self._values

    def forget(self) -> None:
        """Ask again next time (after an action changed the DLQ)."""
        with self._lock:
            self._at = -float("inf")
