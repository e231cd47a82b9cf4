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
from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from jobq.backends.postgres.connection import Connection, Database, Durability, storage_error
from jobq.backends.postgres.enqueue import Inserter
from jobq.backends.postgres.listener import Listener, channel_for
from jobq.backends.postgres.migrate import migrate
from jobq.backends.postgres.seam import PostgresSeam
from jobq.backends.postgres.statements import SQL, add_to_tally, dict_rows
from jobq.backends.records import error_to_json, expired_lease_from_row
from jobq.backends.store import SQLStore
from jobq.backends.store.claims import claim_in_order, claimed
from jobq.backends.store.dead_lettering import dead_letter
from jobq.clock import Clock
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
        with self._db.transaction(durable=durable) as conn:
            applied = self._record(conn, outcomes, tally)
            claimed = _claim(conn, worker=worker, queues=queues, limit=limit, lease=lease, now=now, alone=alone)
            return applied, claimed

    def alone_due(self, *, queues: Sequence[str], now: float) -> bool:
        """Is a job that must run alone due in one of ``queues``?"""
        with self._db.connection() as conn:
            return conn.execute(SQL["alone_due"], {"queues": list(queues), "now": now}).fetchone() is not None

    def _ack_and_claim(
        self, acks: Sequence[Succeeded], *, worker: str, queue: str, limit: int, lease: float, now: float, durable: bool
    ) -> tuple[list[bool], list[ClaimedJob]]:
        """A worker's hot path in one round trip: a pipeline of prepared statements that the server runs as one
        transaction (everything up to the pipeline's one Sync message), each planned once per connection."""
        params = {"worker": worker, "queue": queue, "limit": limit, "now": now, "lease_ends_in": from_now(now + lease)}
        with self._db.connection() as conn:
            with conn.pipeline():
                lazy = not durable and self._db.waits_for_flush
                conn.execute(SQL_HOT_PATH_LAZY if lazy else SQL_HOT_PATH, prepare=True)
                acked = conn.execute(SQL["ack"], _ack_values(acks), prepare=True) if acks else None
                claim = conn.cursor(row_factory=dict_row)
                claim.execute(SQL["claim"], params, prepare=True)
            applied = _applied(acks, acked.fetchall()) if acked is not None else []
            return applied, claimed(claim.fetchall())

    def record(self, outcomes: Sequence[Outcome], *, tally: Mapping[TallyKey, float] | None = None) -> list[bool]:
        """Apply outcomes in one transaction, each fenced by its token; runs of acks in one statement.

        A commit whose result is unknown (the connection died during COMMIT) raises StorageError; the
        caller records the same outcomes again and the fence decides: applied once, never twice.
        """
        if not outcomes and not tally:
            return []
        with self._db.transaction() as conn:
            return self._record(conn, outcomes, tally)

    def _record(
        self, conn: Connection, outcomes: Sequence[Outcome], tally: Mapping[TallyKey, float] | None
    ) -> list[bool]:
        applied: list[bool] = []
        requeued: set[str] = set()
        for kind, run in groupby(outcomes, key=type):
            batch = list(run)
            if kind is Succeeded:
                applied += self._ack(conn, [outcome for outcome in batch if isinstance(outcome, Succeeded)])
            elif kind is DeadLettered:
                dead = [outcome for outcome in batch if isinstance(outcome, DeadLettered)]
                applied += dead_letter(self._seam, self._seam.session(conn), dead, _fence)
            else:
                queues = self._apply_each(conn, batch)
                applied += [queue is not None for queue in queues]
                if kind is not Cancelled:  # a cancelled job is not queued again: no worker to wake
                    requeued.update(queue for queue in queues if queue is not None)
        if requeued:
            conn.execute(SQL["notify"], {"channel": self._inserter.channel, "queues": sorted(requeued)})
        if tally:
            add_to_tally(conn, tally)
        return applied

    def _ack(self, conn: Connection, batch: Sequence[Succeeded]) -> list[bool]:
        return _applied(batch, conn.execute(SQL["ack"], _ack_values(batch)).fetchall())

    def _apply_each(self, conn: Connection, batch: Sequence[Outcome]) -> list[str | None]:
        """One statement per outcome, pipelined: the queue of each job it applied to, None where fenced off."""
        query = SQL[_STATEMENT[type(batch[0])]]
        cursor = conn.cursor()
        cursor.executemany(query, [_outcome_values(outcome) for outcome in batch], returning=True)
        results: list[str | None] = []
        while True:
            row = cursor.fetchone()
            results.append(None if row is None else str(row[0]))
            if not cursor.nextset():
                return results

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


def _applied(batch: Sequence[Succeeded], rows: Sequence[Sequence[Any]]) -> list[bool]:
    """Which acknowledgements took, from the (id, token) rows the ack returned."""
    done = {(row[0], row[1]) for row in rows}
    applied = []
    for outcome in batch:  # as if applied one by one: a lease acknowledged twice counts once
        lease = (outcome.lease.job_id, outcome.lease.token)
        applied.append(lease in done)
        done.discard(lease)
    return applied


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
SQL_HOT_PATH = f"SELECT {_GENERIC_PLANS}"
"""The hot path's statements get one plan per connection, not one per round: planning them cost more than
running them (and the planner reads index pages to estimate, past every entry earlier claims left dead). The
plan must walk the indexes: one made while the queue was small must not scan and sort it once it is long."""
SQL_HOT_PATH_LAZY = f"SELECT {_GENERIC_PLANS}, set_config('synchronous_commit', 'off', true)"

_STATEMENT: dict[type, str] = {RetryLater: "retry", Released: "release", Cancelled: "cancel_running"}


def _outcome_values(outcome: Outcome) -> dict[str, Any]:
    lease = {"id": outcome.lease.job_id, "token": outcome.lease.token}
    match outcome:
        case RetryLater(error=error, run_at=run_at, expired_at=expired_at):
            error_json = error_to_json(error)
            return {**lease, "run_at": run_at, "error": error_json, "expired_in": _offset(expired_at)}
        case Released():
            return lease
        case Cancelled(at=at):
            return {**lease, "at": at}
    raise TypeError(f"unknown outcome {outcome!r}")  # pragma: no cover


def _offset(moment: float | None) -> float | None:
    return None if moment is None else from_now(moment)


def _fence(outcome: DeadLettered) -> dict[str, Any]:
    """``dead_letter``'s parameters: the lease, and for a rescued job how far from now its lease must still be
    expired."""
    lease = outcome.lease
    return {"id": lease.job_id, "token": lease.token, "at": outcome.at, "error": error_to_json(outcome.error),
            "expired_in": _offset(outcome.expired_at)}  # fmt: skip
