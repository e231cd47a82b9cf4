"""Counters and histograms that workers keep in the database, so every process's numbers add up.

A worker tallies what it records and hands the tally to the same transaction as the outcomes: the
numbers can never disagree with the jobs they count. Histogram buckets are stored per bucket (not
cumulative); readers add them up.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass, field

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, math.inf)
"""Upper bounds, in seconds, shared by the job-duration and queue-wait histograms."""

COUNTERS = ("processed", "succeeded", "failed", "dead_lettered", "replayed", "dlq_pruned")
HISTOGRAMS = ("job_duration_seconds", "queue_wait_seconds")
SUM = -1.0  # the ``le`` of a histogram's running sum
COUNTER = -2.0  # the ``le`` of a plain counter

Key = tuple[str, str, float]
"""(metric name, queue, bucket upper bound or SUM / COUNTER)."""


@dataclass(slots=True)
class Tally:
    """Increments gathered between two flushes."""

    values: defaultdict[Key, float] = field(default_factory=lambda: defaultdict(float))

    def count(self, name: str, queue: str, by: float = 1.0) -> None:
        """Add to a counter."""
        self.values[(name, queue, COUNTER)] += by

    def observe(self, name: str, queue: str, seconds: float) -> None:
        """Add one observation to a histogram."""
        seconds = max(0.0, seconds)
        bound = DURATION_BUCKETS[bisect.bisect_left(DURATION_BUCKETS, seconds)]
        self.values[(name, queue, bound)] += 1
        self.values[(name, queue, SUM)] += seconds

    def add(self, values: dict[Key, float]) -> None:
        """Put increments back (a flush that failed will carry them next time)."""
        for key, value in values.items():
            self.values[key] += value

    def take(self) -> dict[Key, float]:
        """The increments so far, leaving the tally empty."""
        values, self.values = dict(self.values), defaultdict(float)
        return values


@dataclass(frozen=True, slots=True)
class Histogram:
    """A histogram read back: cumulative bucket counts, the sum and the count of observations."""

    buckets: tuple[tuple[float, float], ...]
    sum: float
    count: float


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every worker's counters and histograms, by metric name and queue."""

    counters: dict[tuple[str, str], float]
    histograms: dict[tuple[str, str], Histogram]


def read_back(rows: list[tuple[str, str, float, float]]) -> Metrics:
    """Stored rows ``(name, queue, le, value)`` → counters and cumulative histograms."""
    counters: dict[tuple[str, str], float] = {}
    buckets: dict[tuple[str, str], dict[float, float]] = defaultdict(dict)
    sums: dict[tuple[str, str], float] = defaultdict(float)
    for name, queue, le, value in rows:
        if le == COUNTER:
            counters[(name, queue)] = value
        elif le == SUM:
            sums[(name, queue)] = value
        else:
            buckets[(name, queue)][le] = value
    histograms = {}
    for key, counts in buckets.items():
        running, cumulative = 0.0, []
        for bound in DURATION_BUCKETS:
            running += counts.get(bound, 0.0)
            cumulative.append((bound, running))
        histograms[key] = Histogram(tuple(cumulative), sums[key], running)
    return Metrics(counters, histograms)
