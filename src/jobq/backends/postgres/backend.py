"""The PostgreSQL backend: many workers on many machines against one database.

Claims are ``FOR UPDATE SKIP LOCKED`` in one statement per batch; acknowledgements and lease renewals are
set-based (one statement for a whole batch); enqueues NOTIFY listening workers inside their transaction.

Clocks. The storage contract passes instants from the caller's clock (unix seconds). Lease instants are
kept on the *database* clock instead, so that workers on machines whose clocks disagree still agree on
when a lease ran out: a caller's instant ``t`` is read as "``t - time.time()`` seconds from now" and
stored or compared as ``statement_timestamp() + that offset``. With the real clock the offset is the
lease itself (or zero), so only the database's clock decides; with an injected test clock the offsets
are kept, so tests move time exactly as on SQLite. ``run_at``, ``started_at`` and ``finished_at`` stay
as the caller gave them: they are schedule and record, not a race between machines, and a clock skew
only shifts when a delayed job becomes due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import Cursor
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from jobq.backends.postgres.connection import Connection, Database, Durability, storage_error
from jobq.backends.postgres.enqueue import Inserter
from jobq.backends.postgres.listener import Listener, channel_for
from jobq.backends.postgres.migrate import migrate
from jobq.backends.postgres.recording import Recording, applied_acks
from jobq.backends.postgres.seam import PostgresSeam
from jobq.backends.postgres.statements import SQL, add_to_tally, dict_rows
from jobq.backends.records import expired_lease_from_row
from jobq.backends.store import SQLStore
from jobq.backends.store.claims import claim_in_order, claimed
from jobq.clock import Clock
from jobq.job import (
    ClaimedJob,
    ExpiredLease,
    JobId,
    Lease,
    NewJob,
    Outcome,
    Succeeded,
)
from jobq.tally import Key as TallyKey

COPY_AT_LEAST = 10_000  # jobs in one enqueue from which COPY (streamed, no one big parameter) takes over


host_clock: Clock = time.time
"""This machine's clock: only a caller's distance from it reaches the database (tests move it)."""


def from_now(moment: float) -> float:
    """A caller's instant as seconds from the caller's present: SQL adds it to the database clock."""
    return moment - host_clock()


class PostgresBackend(SQLStore):
    """Jobs and dead letters in one PostgreSQL schema (the first on the URL's search_path).

    >>> backend = PostgresBackend("postgresql://app@db.internal/app")
    >>> with psycopg.connect(...) as conn:           # the caller's own transaction
    ...     create_order(conn, ...)
    ...     backend.enqueue([job], connection=conn)  # the job exists if and only if this commits
    """

    def __init__(
        self,
        url: str,
        *,
        durability: Durability = "full",
        busy_timeout: float = 5.0,
        min_connections: int = 1,
        max_connections: int = 10,
        wait_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._db = Database(
            url,
            durability=durability,
            lock_timeout=busy_timeout,
            min_connections=min_connections,
            max_connections=max_connections,
            wait_timeout=wait_timeout,
        )
        self._parts: tuple[Inserter, Listener] | None = None
        self._parts_lock = threading.Lock()
        self._seam: PostgresSeam = PostgresSeam(self._db, lambda: self._inserter)

    @property
    def _inserter(self) -> Inserter:
        return self._schema_parts()[0]

    @property
    def _listener(self) -> Listener:
        return self._schema_parts()[1]

    def _schema_parts(self) -> tuple[Inserter, Listener]:
        # Both need the schema, which is known once the database was reached (lazily, on first use).
        if self._parts is None:
            schema = self._db.schema
            with self._parts_lock:
                if self._parts is None:
                    channel = channel_for(schema)
                    self._parts = (Inserter(schema, channel), Listener(self._db, channel))
        return self._parts

    def migrate(self) -> int:
        """Bring the schema to the newest version (under an advisory lock: safe from many processes)."""
        with self._db.connection() as conn:
            return migrate(conn, self._db.where)

    def close(self) -> None:
        """Close the pool and the listening connection."""
        if self._parts is not None:
            self._parts[1].close()
        self._db.close()

    # -- producers and workers -------------------------------------------------------------------

    def enqueue(self, jobs: Sequence[NewJob], *, connection: Connection | None = None) -> list[JobId]:
        """Insert jobs; with ``connection``, inside that (the caller's) transaction, committed by the caller."""
        if not jobs:
            return []
        if connection is not None:
            try:
                return self._inserter.insert(connection, jobs)
            except pg_errors.Error as exc:
                raise storage_error(exc, self._db.where) from exc
        if any(job.unique_key is not None for job in jobs):
            with self._db.transaction() as conn:
                return self._inserter.insert(conn, jobs)
        if len(jobs) >= COPY_AT_LEAST:
            return self._copy(jobs)
        with self._db.connection() as conn:  # one statement: atomic without BEGIN
            return self._inserter.insert(conn, jobs)

    def _copy(self, jobs: Sequence[NewJob]) -> list[JobId]:
        with self._db.transaction() as conn:
            try:
                with conn.transaction():  # a savepoint: a failed COPY undoes only itself
                    self._inserter.copy(conn, jobs)
            except pg_errors.UniqueViolation:
                # A job id is stored already (an enqueue retried after a commit whose outcome was unknown):
                # the INSERT path skips the ones that exist, as every enqueue does.
                self._inserter.insert(conn, jobs)
        return [job.id for job in jobs]

    def claim(self, *, worker: str, queue: str, limit: int, lease: float, now: float) -> list[ClaimedJob]:
        """Take up to ``limit`` due jobs in one ``UPDATE … FOR UPDATE SKIP LOCKED … RETURNING``."""
        with self._db.connection() as conn:  # one statement: atomic without BEGIN
            return _claim(conn, worker=worker, queues=[queue], limit=limit, lease=lease, now=now)

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
        acks = [outcome for outcome in outcomes if isinstance(outcome, Succeeded)]
        if not tally and not alone and len(acks) == len(outcomes) and len(queues) == 1:
            return self._ack_and_claim(acks, worker=worker, queue=queues[0], limit=limit, lease=lease, now=now,
                                       durable=durable)  # fmt: skip
        params = {"worker": worker, "now": now, "lease_ends_in": from_now(now + lease)}
        with self._pipelined(durable=durable) as conn:
            recording = self._send(conn, outcomes, tally)
            if len(queues) == 1:
                take = _PipelinedClaim(conn, {**params, "queue": queues[0], "limit": limit}, alone=alone)
                recording.write_letters(self._seam, self._seam.session(conn))  # with the alone claim's answer
                take.rest()
            else:  # each queue's claim depends on what the one before found
                found = _claim(conn, worker=worker, queues=queues, limit=limit, lease=lease, now=now, alone=alone)
                recording.write_letters(self._seam, self._seam.session(conn))
        return recording.applied(), take.jobs() if len(queues) == 1 else found

    def alone_due(self, *, queues: Sequence[str], now: float) -> bool:
        """Is a job that must run alone due in one of ``queues``?"""
        with self._db.connection() as conn:
            return conn.execute(SQL["alone_due"], {"queues": list(queues), "now": now}).fetchone() is not None

    def _ack_and_claim(
        self, acks: Sequence[Succeeded], *, worker: str, queue: str, limit: int, lease: float, now: float, durable: bool
    ) -> tuple[list[bool], list[ClaimedJob]]:
        """A worker's hot path in one round trip: the ack and the claim, prepared, in one pipelined transaction."""
        params = {"worker": worker, "queue": queue, "limit": limit, "now": now, "lease_ends_in": from_now(now + lease)}
        with self._pipelined(durable=durable) as conn:
            acked = conn.cursor(row_factory=dict_row)
            if acks:
                acked.execute(SQL["ack"], _ack_values(acks), prepare=True)
            claim = conn.cursor(row_factory=dict_row)
            claim.execute(SQL["claim"], params, prepare=True)
        return (applied_acks(acks, acked.fetchall()) if acks else []), claimed(claim.fetchall())

    def record(self, outcomes: Sequence[Outcome], *, tally: Mapping[TallyKey, float] | None = None) -> list[bool]:
        """Apply outcomes in one transaction, each fenced by its token; each run of one kind in one statement.

        A commit whose result is unknown (the connection died during COMMIT) raises StorageError; the
        caller records the same outcomes again and the fence decides: applied once, never twice.
        """
        if not outcomes and not tally:
            return []
        with self._pipelined() as conn:
            recording = self._send(conn, outcomes, tally)
            recording.write_letters(self._seam, self._seam.session(conn))
        return recording.applied()

    @contextmanager
    def _pipelined(self, *, durable: bool = True) -> Iterator[Connection]:
        """A transaction whose statements go out without waiting for each other: BEGIN, what the caller sends and
        COMMIT travel together, and the caller waits only where it reads a result before COMMIT (then at COMMIT).

        Its statements are planned once per connection (``SQL_WORKER``). BEGIN and COMMIT are statements of the
        pipeline, not psycopg's ``transaction()``, which syncs (waits) at
        both ends. Explicit, not the pipeline's implicit transaction: that one commits at the closing Sync even when
        the caller stopped halfway on an error of its own; an explicit one stays open, and is rolled back here.
        """
        with self._db.connection() as conn:
            try:
                with conn.pipeline():
                    conn.execute("BEGIN", prepare=False)
                    lazy = not durable and self._db.waits_for_flush
                    conn.execute(SQL_WORKER_LAZY if lazy else SQL_WORKER, prepare=True)
                    yield conn
                    conn.execute("COMMIT", prepare=False)
            except BaseException:
                with suppress(psycopg.Error):  # a connection that broke is discarded by the pool anyway
                    conn.rollback()
                raise

    def _send(self, conn: Connection, outcomes: Sequence[Outcome], tally: Mapping[TallyKey, float] | None) -> Recording:
        recording = Recording(conn, outcomes, channel=self._inserter.channel, offset=from_now)
        if tally:
            add_to_tally(conn, tally)
        return recording

    def extend(self, leases: Sequence[Lease], *, until: float) -> list[Lease]:
        """Renew leases in one statement; the ones not renewed were taken over (or finished) elsewhere."""
        if not leases:
            return []
        params = {
            "id": [lease.job_id for lease in leases],
            "token": [lease.token for lease in leases],
            "ends_in": from_now(until),
        }
        with self._db.connection() as conn:
            held = {(row[0], row[1]) for row in conn.execute(SQL["extend_leases"], params).fetchall()}
        return [lease for lease in leases if (lease.job_id, lease.token) not in held]

    def expired(self, *, now: float, limit: int) -> list[ExpiredLease]:
        """Running jobs whose lease ran out, by the database clock."""
        with self._db.connection() as conn:
            rows = dict_rows(conn, SQL["expired_leases"], {"now_in": from_now(now), "limit": limit})
        return [expired_lease_from_row(row) for row in rows]

    def next_due(self, *, queue: str) -> float | None:
        """The earliest ``run_at`` among the queue's queued jobs."""
        with self._db.connection() as conn:
            row = conn.execute(SQL["next_due"], {"queue": queue}).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def changed(self) -> bool:
        """Has a job been enqueued, retried or released (and committed) since the last call? No round trip."""
        return self._listener.changed()

    def wait_for_change(self, timeout: float) -> bool:
        """Block on the notification socket up to ``timeout`` seconds; True when something was committed."""
        return self._listener.wait(timeout)


def _ack_values(batch: Sequence[Succeeded]) -> dict[str, list[Any]]:
    return {
        "id": [outcome.lease.job_id for outcome in batch],
        "token": [outcome.lease.token for outcome in batch],
        "at": [outcome.at for outcome in batch],
        "result": [outcome.result for outcome in batch],
    }


class _PipelinedClaim:
    """One queue's claim in a pipelined round: sent without waiting, so that it shares the round's round trips.

    Looking for a job that must run alone first needs its answer before the usual claim is sent (such a job is
    claimed by itself): that answer comes back with the round's first read (the dead jobs' rows, if any).
    """

    def __init__(self, conn: Connection, params: dict[str, Any], *, alone: bool) -> None:
        self._conn, self._params = conn, params
        self._alone = self._send("claim_alone") if alone else None
        self._claim: Cursor[dict[str, Any]] | None = None

    def rest(self) -> None:
        """Send the usual claim, unless a job that must run alone was found."""
        if self._alone is None or not self._alone.fetchall():
            self._claim = self._send("claim")

    def jobs(self) -> list[ClaimedJob]:
        """What was claimed; read once the pipeline synced."""
        cursor = self._claim if self._claim is not None else self._alone
        assert cursor is not None
        if cursor is self._alone:
            cursor.scroll(0, mode="absolute")  # read once already, by rest()
        return claimed(cursor.fetchall())

    def _send(self, statement: str) -> Cursor[dict[str, Any]]:
        cursor = self._conn.cursor(row_factory=dict_row)
        cursor.execute(SQL[statement], self._params)
        return cursor


def _claim(
    conn: Connection,
    *,
    worker: str,
    queues: Sequence[str],
    limit: int,
    lease: float,
    now: float,
    alone: bool = False,
) -> list[ClaimedJob]:
    """Up to ``limit`` due jobs in the store's claim order, leased for ``lease`` seconds by the database clock."""
    params = {"worker": worker, "now": now, "lease_ends_in": from_now(now + lease)}
    return claim_in_order(
        queues, limit=limit, alone=alone,
        take_alone=lambda queue: dict_rows(conn, SQL["claim_alone"], {**params, "queue": queue}),
        take=lambda queue, n: dict_rows(conn, SQL["claim"], {**params, "queue": queue, "limit": n}),
    )  # fmt: skip


_GENERIC_PLANS = (
    "set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true), set_config('enable_sort', 'off', true)"
)
SQL_WORKER = f"SELECT {_GENERIC_PLANS}"
"""The worker's statements get one plan per connection, not one per round: planning them cost more than running
them (and the planner reads index pages to estimate, past every entry earlier claims left dead). The plan must
walk the indexes: one made while the queue was small must not scan and sort it once it is long."""
SQL_WORKER_LAZY = f"SELECT {_GENERIC_PLANS}, set_config('synchronous_commit', 'off', true)"
