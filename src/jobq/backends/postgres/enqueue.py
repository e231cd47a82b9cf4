"""Putting jobs in: one statement for one job or many, COPY for bulk, the unique-key look-up; on any connection."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg import sql

from jobq.backends.batches import SHARED_FIELDS, batches_sharing_options
from jobq.backends.postgres.connection import Connection
from jobq.backends.postgres.statements import SQL
from jobq.errors import StorageError
from jobq.job import JobId, NewJob
from jobq.payload import dumps as dump_payload

UNIQUE_TRIES = 5  # a pending job with the key may finish between our INSERT and our look-up: try again

_json_string = json.encoder.encode_basestring  # C: a str as a JSON string literal
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


class Inserter:
    """Inserts jobs into one schema's ``jobs`` table and notifies that schema's listeners.

    The table is schema-qualified so that it also works on a caller's own connection, whatever that
    connection's search_path (transactional enqueue). Nothing here commits: the connection's transaction
    (or autocommit) decides.
    """

    def __init__(self, schema: str, channel: str) -> None:
        # Rendered to text once: psycopg renders a composed query again on every execute, which cost a single
        # enqueue more than its parameters did.
        table = sql.Identifier(schema, "jobs").as_string(None)
        self._insert_one = SQL["insert_job"].format(jobs=table)
        self._insert_many = SQL["insert_jobs"].format(jobs=table)
        self._insert_batch = SQL["insert_batch"].format(jobs=table)
        self._copy = SQL["copy_jobs"].format(jobs=table)
        self._pending = SQL["pending_with_unique_key"].format(jobs=table)
        self.channel = channel

    def insert(self, conn: Connection, jobs: Sequence[NewJob]) -> list[JobId]:
        """Insert ``jobs``; a job id already stored is skipped, a pending unique key returns its job's id."""
        plain = [job for job in jobs if job.unique_key is None]
        if len(plain) == 1:
            conn.execute(self._insert_one, self._row(plain[0]))
        elif plain:
            batches = batches_sharing_options(plain)
            if len(batches) == 1:  # one enqueue_many: only ids and payloads differ from row to row
                shared = {name: getattr(plain[0], name) for name in SHARED_FIELDS}
                rows = "[" + ",".join([f"[{_json_string(job.id)},{_payload_text(job)}]" for job in plain]) + "]"
                conn.execute(self._insert_batch, {**shared, "rows": rows, "channel": self.channel})
            else:
                rows = _encode([_values(job) for job in plain])
                conn.execute(self._insert_many, {"jobs": rows, "channel": self.channel})
        return [job.id if job.unique_key is None else self._insert_unique(conn, job) for job in jobs]

    def copy(self, conn: Connection, jobs: Sequence[NewJob]) -> None:
        """COPY jobs without unique keys, then notify; a job id already stored fails the whole COPY."""
        with conn.cursor().copy(self._copy) as copy:
            for job in jobs:
                copy.write_row((
                    job.id, job.task, job.queue, "queued", job.priority, _payload_text(job), job.tenant,
                    job.key, None, job.max_attempts, job.run_at, job.created_at, job.replay_of,
                ))  # fmt: skip
        queues = sorted({job.queue for job in jobs})
        conn.execute(SQL["notify"], {"channel": self.channel, "queues": queues})

    def _insert_unique(self, conn: Connection, job: NewJob) -> JobId:
        for _ in range(UNIQUE_TRIES):
            if conn.execute(self._insert_one, self._row(job)).fetchone() is not None:
                return job.id
            row = conn.execute(self._pending, {"unique_key": job.unique_key}).fetchone()
            if row is not None:
                return JobId(row[0])
        raise StorageError(f"job {job.id}: could not insert it nor find the pending job with key {job.unique_key!r}")

    def _row(self, job: NewJob) -> dict[str, Any]:
        return {**_values(job), "channel": self.channel}


def _values(job: NewJob) -> dict[str, Any]:
    return {
        "id": job.id, "task": job.task, "queue": job.queue, "priority": job.priority,
        "payload": _payload_text(job), "tenant": job.tenant, "key": job.key, "unique_key": job.unique_key,
        "max_attempts": job.max_attempts, "run_at": job.run_at, "created_at": job.created_at,
        "replay_of": job.replay_of,
    }  # fmt: skip


def _payload_text(job: NewJob) -> str:
    """The text the producer encoded once already (its checks done), or the payload encoded now."""
    return job.payload_text if job.payload_text is not None else dump_payload(job.payload)
