"""Batches of jobs that share their options (one ``enqueue_many`` call makes one): stored with what they share
bound once and only ids and payloads per row, on both databases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jobq.job import NewJob

SHARED_FIELDS = ("task", "queue", "priority", "tenant", "key", "max_attempts", "run_at", "created_at", "replay_of")


def batches_sharing_options(jobs: Sequence[NewJob]) -> list[list[NewJob]]:
    """Consecutive runs of jobs that differ only in id and payload (``enqueue_many`` makes one run)."""
    batches: list[list[NewJob]] = []
    previous: tuple[Any, ...] | None = None
    for job in jobs:
        shared = (job.task, job.queue, job.priority, job.tenant, job.key, job.max_attempts, job.run_at,
                  job.created_at, job.replay_of)  # fmt: skip
        if shared != previous:
            batches.append([])
            previous = shared
        batches[-1].append(job)
    return batches
