"""Jobs as SQLite's INSERT parameters: one job's values, and batches sharing their options."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jobq.job import NewJob
from jobq.payload import dumps as dump_payload

SHARED_FIELDS = ("task", "queue", "priority", "tenant", "key", "max_attempts", "run_at", "created_at", "replay_of")

json_string = json.encoder.encode_basestring  # C: a str as a JSON string literal


def job_values(job: NewJob) -> tuple[Any, ...]:
    """A job as ``insert_job``'s positional parameters."""
    return (
        job.id, job.task, job.queue, job.priority, payload_text(job), job.tenant, job.key,
        job.unique_key, job.max_attempts, job.run_at, job.created_at, job.replay_of,
    )  # fmt: skip


def payload_text(job: NewJob) -> str:
    """The text the producer encoded once already (its checks done), or the payload encoded now."""
    return job.payload_text if job.payload_text is not None else dump_payload(job.payload)


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
