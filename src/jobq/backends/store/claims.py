"""The claim order, once for both databases: a job that must run alone first and by itself, then the first
queue first, each queue's jobs in priority order. Each dialect supplies its two claim statements."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from jobq.backends.records import claimed_job_from_row
from jobq.backends.store.seam import Row
from jobq.job import ClaimedJob

TakeAlone = Callable[[str], Sequence[Row]]
"""Claim one job of the queue that must run alone (no rows when none is due)."""
Take = Callable[[str, int], Sequence[Row]]
"""Claim up to so many of the queue's due jobs."""


def claim_in_order(
    queues: Sequence[str], *, limit: int, alone: bool, take_alone: TakeAlone, take: Take
) -> list[ClaimedJob]:
    """Up to ``limit`` due jobs across ``queues``; with ``alone``, a job that must run alone comes first, alone."""
    for queue in queues if alone else ():
        if found := claimed(take_alone(queue)):
            return found
    jobs: list[ClaimedJob] = []
    for queue in queues:
        jobs += claimed(take(queue, limit - len(jobs)))
        if len(jobs) >= limit:
            break
    return jobs


def claimed(rows: Sequence[Row]) -> list[ClaimedJob]:
    """Claimed rows as jobs, in priority order (``UPDATE … RETURNING`` gives them in no set order)."""
    ordered = sorted(rows, key=lambda row: (-row["priority"], row["run_at"], row["id"]))
    return [claimed_job_from_row(row) for row in ordered]
