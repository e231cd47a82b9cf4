"""The SQLite backend: the default, with zero infrastructure. WAL, short ``BEGIN IMMEDIATE`` writes."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from jobq.backends.batches import batches_sharing_options
from jobq.backends.records import error_to_json, expired_lease_from_row
from jobq.backends.sqlite.connection import Connections, Durability
from jobq.backends.sqlite.enqueue import batch_statements, job_values, rows_statements
from jobq.backends.sqlite.group_commit import GroupCommit
from jobq.backends.sqlite.seam import SQL, SQLiteSeam, add_to_tally
from jobq.backends.store import SQLStore
from jobq.backends.store.claims import claim_in_order
from jobq.backends.store.dead_lettering import dead_letter
from jobq.errors import JobqError
from jobq.job import (
    Cancelled,
    ClaimedJob,
    DeadLettered,
    ExpiredLease,
    JobId,
    Lease,
    NewJob,
    Outcome,
    Released,
    RetryLater,
    Succeeded,
)
from jobq.tally import Key as TallyKey

WATCH_POLL = 0.002  # seconds between looks at data_version while a worker waits for work


def _claim(
    conn: sqlite3.Connection,
    *,
    worker: str,
    queues: Sequence[str],
    limit: int,
    lease: float,
    now: float,
    alone: bool = False,
) -> list[ClaimedJob]:
    """Up to ``limit`` due jobs in the store's claim order, leased until ``now + lease``."""
    params = {"locked_until": now + lease, "worker": worker, "now": now}
    return claim_in_order(
        queues, limit=limit, alone=alone,
        take_alone=lambda queue: conn.execute(SQL["claim_alone"], {**params, "queue": queue}).fetchall(),
        take=lambda queue, n: conn.execute(SQL["claim"], {**params, "queue": queue, "limit": n}).fetchall(),
    )  # fmt: skip


class SQLiteBackend(SQLStore):
    """Jobs and dead letters in one SQLite file (or ``:memory:``, for tests in one process)."""

    def __init__(self, path: str, *, durability: Durability = "full", busy_timeout: float = 5.0) -> None:
        self.url = "sqlite://:memory:" if path == ":memory:" else f"sqlite:///{path}"
        self._db = Connections(path, durability=durability, busy_timeout=busy_timeout)
        self._data_version: int | None = None
        self._seam: SQLiteSeam = SQLiteSeam(self._db)
        self._group: GroupCommit[Sequence[NewJob], list[JobId]] = GroupCommit(self._enqueue_group, self._enqueue_alone)

    def migrate(self) -> int:
        """Bring the schema to the newest version."""
        return self._db.migrate()

    def close(self) -> None:
        """Close every connection."""
        self._db.close()

    # -- producers and workers -------------------------------------------------------------------

    def enqueue(self, jobs: Sequence[NewJob], *, connection: Any = None) -> list[JobId]:
        """Insert jobs. Calls made at the same moment (a web server's threads) share one commit."""
        if connection is not None:
            raise JobqError("enqueueing inside your own transaction needs the PostgreSQL backend")
        return self._group.run(jobs)

    def _enqueue_group(self, calls: Sequence[Sequence[NewJob]]) -> list[list[JobId]]:
        if len(calls) == 1:
            return [self._enqueue_alone(calls[0])]
        with self._db.write() as conn:
            if any(job.unique_key is not None for jobs in calls for job in jobs):
                return [self._insert(conn, jobs) for jobs in calls]
            for statement, params in rows_statements([job for jobs in calls for job in jobs]):
                conn.execute(statement, params)
        return [[job.id for job in jobs] for jobs in calls]

    def _enqueue_alone(self, jobs: Sequence[NewJob]) -> list[JobId]:
        if len(jobs) == 1 and jobs[0].unique_key is None:
            self._db.execute_alone(SQL["insert_job"], job_values(jobs[0]))  # its own transaction: the cheapest
            return [jobs[0].id]
        with self._db.write() as conn:
            return self._insert(conn, jobs)

    def _insert(self, conn: sqlite3.Connection, jobs: Sequence[NewJob]) -> list[JobId]:
        """Insert jobs: alone by one statement; many sharing their options by multi-row statements."""
        if any(job.unique_key is not None for job in jobs):
            return [self._insert_one(conn, job) for job in jobs]
        if len(jobs) == 1:
            conn.execute(SQL["insert_job"], job_values(jobs[0]))
            return [jobs[0].id]
        for batch in batches_sharing_options(jobs):
            for statement, params in batch_statements(batch):
                conn.execute(statement, params)
        return [job.id for job in jobs]

    def _insert_one(self, conn: sqlite3.Connection, job: NewJob) -> JobId:
        if conn.execute(SQL["insert_job"], job_values(job)).rowcount == 1:
            return job.id
        row = conn.execute(SQL["pending_with_unique_key"], (job.unique_key,)).fetchone()
        return JobId(row["id"])

    def claim(self, *, worker: str, queue: str, limit: int, lease: float, now: float) -> list[ClaimedJob]:
        """Take up to ``limit`` due jobs in one ``UPDATE … RETURNING``."""
        with self._db.write() as conn:
            return _claim(conn, worker=worker, queues=[queue], limit=limit, lease=lease, now=now)

    def record(self, outcomes: Sequence[Outcome], *, tally: Mapping[TallyKey, float] | None = None) -> list[bool]:
        """Apply a batch of outcomes in one transaction, each fenced by its token, and add the tally."""
        with self._db.write() as conn:
            return self._record(conn, outcomes, tally)

    def record_and_claim(
        self,
        outcomes: Sequence[Outcome],
        *,
        tally: Mapping[TallyKey, float] | None = None,
        worker: str,
        queues: Sequence[str],
        limit: int,
        lease: float,
        now: float,
        durable: bool = True,
        alone: bool = False,
    ) -> tuple[list[bool], list[ClaimedJob]]:
        """``record`` then ``claim`` across ``queues`` in order, in one transaction."""
        with self._db.write(durable=durable) as conn:
            applied = self._record(conn, outcomes, tally)
            claimed = _claim(conn, worker=worker, queues=queues, limit=limit, lease=lease, now=now, alone=alone)
            return applied, claimed

    def alone_due(self, *, queues: Sequence[str], now: float) -> bool:
        """Is a job that must run alone due in one of ``queues``?"""
        with self._db.read() as conn:
            return any(conn.execute(SQL["alone_due"], {"queue": q, "now": now}).fetchone() for q in queues)

    def _record(
        self, conn: sqlite3.Connection, outcomes: Sequence[Outcome], tally: Mapping[TallyKey, float] | None
    ) -> list[bool]:
        applied = [self._apply(conn, outcome) for outcome in outcomes]
        if tally:
            add_to_tally(conn, tally)
        return applied

    def _apply(self, conn: sqlite3.Connection, outcome: Outcome) -> bool:
        lease = {"id": outcome.lease.job_id, "token": outcome.lease.token}
        match outcome:
            case Succeeded(at=at, result=result):
                row = conn.execute(SQL["ack"], {**lease, "at": at, "result": result}).fetchone()
                if row is not None and row["replay_of"] is not None:
                    conn.execute(SQL["mark_recovered"], {"letter": row["replay_of"], "job": outcome.lease.job_id})
                return row is not None
            case RetryLater(error=error, run_at=run_at, expired_at=expired_at):
                params = {**lease, "run_at": run_at, "error": error_to_json(error), "expired_at": expired_at}
                return conn.execute(SQL["retry"], params).rowcount == 1
            case Released():
                return conn.execute(SQL["release"], lease).rowcount == 1
            case Cancelled(at=at):
                return conn.execute(SQL["cancel_running"], {**lease, "at": at}).rowcount == 1
            case DeadLettered():
                return dead_letter(self._seam, self._seam.session(conn), [outcome], _fence)[0]
        raise TypeError(f"unknown outcome {outcome!r}")  # pragma: no cover

    def extend(self, leases: Sequence[Lease], *, until: float) -> list[Lease]:
        """Renew leases; the ones not renewed were taken over (or finished) elsewhere."""
        lost = []
        with self._db.write() as conn:
            for lease in leases:
                params = {"id": lease.job_id, "token": lease.token, "locked_until": until}
                if conn.execute(SQL["extend_lease"], params).rowcount != 1:
                    lost.append(lease)
        return lost

    def expired(self, *, now: float, limit: int) -> list[ExpiredLease]:
        """Running jobs whose lease ran out."""
        with self._db.read() as conn:
            rows = conn.execute(SQL["expired_leases"], {"now": now, "limit": limit}).fetchall()
        return [expired_lease_from_row(row) for row in rows]

    def next_due(self, *, queue: str) -> float | None:
        """The earliest ``run_at`` among the queue's queued jobs."""
        with self._db.read() as conn:
            row = conn.execute(SQL["next_due"], {"queue": queue}).fetchone()
        value: float | None = row[0]
        return value

    def wait_for_change(self, timeout: float) -> bool:
        """Poll ``PRAGMA data_version`` (it moves when another connection commits; microseconds a look)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._db.read() as conn:
                version: int = conn.execute("PRAGMA data_version").fetchone()[0]
            changed, self._data_version = version != self._data_version, version
            if changed or time.monotonic() >= deadline:
                return changed
            time.sleep(WATCH_POLL)


def _fence(outcome: DeadLettered) -> dict[str, Any]:
    """``dead_letter``'s parameters: the lease, and for a rescued job the instant its lease must still be expired at."""
    lease = outcome.lease
    return {"id": lease.job_id, "token": lease.token, "at": outcome.at, "error": error_to_json(outcome.error),
            "expired_at": outcome.expired_at}  # fmt: skip
