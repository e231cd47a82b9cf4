"""Jobs as SQLite's INSERT parameters: one job's values, and batches sharing their options."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from jobq.backends.batches import SHARED_FIELDS
from jobq.job import NewJob
from jobq.payload import dumps as dump_payload

ROWS_PER_STATEMENT = 500  # at most 12 parameters a row: well under SQLite's limit of 32,766
_COLUMNS = "id, task, queue, status, priority, payload, tenant, key, max_attempts, run_at, created_at, replay_of"


def job_values(job: NewJob) -> tuple[Any, ...]:
    """A job as ``insert_job``'s positional parameters."""
    return (
        job.id, job.task, job.queue, job.priority, payload_text(job), job.tenant, job.key,
        job.unique_key, job.max_attempts, job.run_at, job.created_at, job.replay_of,
    )  # fmt: skip


def payload_text(job: NewJob) -> str:
    """The text the producer encoded once already (its checks done), or the payload encoded now."""
    return job.payload_text if job.payload_text is not None else dump_payload(job.payload)


def batch_statements(batch: Sequence[NewJob]) -> list[tuple[str, list[Any]]]:
    """A batch of jobs sharing their options as multi-row INSERTs with their parameters: what the rows share is
    bound once, then each row's id and payload. Plain bound values beat both a JSON array unpacked by SQLite
    and ``executemany`` (one statement run per row)."""
    shared = [getattr(batch[0], name) for name in SHARED_FIELDS]
    statements = []
    for start in range(0, len(batch), ROWS_PER_STATEMENT):
        rows = batch[start : start + ROWS_PER_STATEMENT]
        values = chain.from_iterable((job.id, payload_text(job)) for job in rows)
        statements.append((_insert_rows(len(rows)), [*shared, *values]))
    return statements


@lru_cache(maxsize=8)
def _insert_rows(count: int) -> str:
    rows = ",".join(
        f"(?{10 + 2 * row}, ?1, ?2, 'queued', ?3, ?{11 + 2 * row}, ?4, ?5, ?6, ?7, ?8, ?9)" for row in range(count)
    )
    return f"INSERT INTO jobs ({_COLUMNS}) VALUES {rows} ON CONFLICT DO NOTHING"


def rows_statements(jobs: Sequence[NewJob]) -> list[tuple[str, list[Any]]]:
    """Jobs with options of their own (one enqueue call each, grouped for one commit) as multi-row INSERTs."""
    statements = []
    for start in range(0, len(jobs), ROWS_PER_STATEMENT):
        rows = jobs[start : start + ROWS_PER_STATEMENT]
        values = chain.from_iterable(
            (job.id, job.task, job.queue, job.priority, payload_text(job), job.tenant, job.key, job.max_attempts,
             job.run_at, job.created_at, job.replay_of)
            for job in rows
        )  # fmt: skip
        statements.append((_insert_whole_rows(len(rows)), list(values)))
    return statements


@lru_cache(maxsize=8)
def _insert_whole_rows(count: int) -> str:
    rows = ",".join("(?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)" for _ in range(count))
    return f"INSERT INTO jobs ({_COLUMNS}) VALUES {rows} ON CONFLICT DO NOTHING"
