"""The SQLite backend: the default, with zero infrastructure. WAL, short ``BEGIN IMMEDIATE`` writes."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from jobq.audit import AuditEntry
from jobq.backends.contract import (
    DeadLetterFilter,
    DeadLetterSummary,
    GroupBy,
    JobFilter,
)
from jobq.backends.queries import load_queries
from jobq.backends.records import (
    claimed_job_from_row,
    dead_letter_conditions,
    dead_letter_from_row,
    error_to_json,
    expired_lease_from_row,
    job_conditions,
    job_from_row,
    letter_row,
    outbox_entry_from_row,
    replay_refused,
    summary_from_row,
)
from jobq.backends.sqlite.connection import Connections, Durability
from jobq.backends.sqlite.redrives import Redrives, record_audit, record_replay
from jobq.backends.sqlite.upkeep import Upkeep
from jobq.clock import to_datetime
from jobq.errors import JobqError
from jobq.job import (
    ClaimedJob,
    DeadLetter,
    DeadLettered,
    DeadLetterGroup,
    DeadLetterId,
    ExpiredLease,
    Job,
    JobId,
    JobStatus,
    Lease,
    NewJob,
    OutboxEntry,
    Outcome,
    Released,
    RetryLater,
    Succeeded,
    new_id,
)
from jobq.payload import dumps as dump_payload
from jobq.recovery import plan_recovery
from jobq.tally import COUNTER
from jobq.tally import Key as TallyKey

SQL = load_queries("jobq.backends.sqlite", "queries.sql")
WATCH_POLL = 0.002  # seconds between looks at data_version while a worker waits for work

# Group-by choices map to columns through this whitelist, never through user text.
_GROUP_COLUMNS: dict[str, str] = {
    "fingerprint": "fingerprint",
    "task": "task",
    "class": "error_class",
    "tenant": "tenant",
    "queue": "queue",
}
_LIGHT_DEAD_COLUMNS = (
    "id, job_id, task, queue, priority, tenant, key, attempts, max_attempts, error_type, error_message, "
    "error_class, fingerprint, failed_at, created_at, resolution, replayed_at, replayed_as, note, "
    "recover_at, recovery_round, previous_id"
)


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
    """Up to ``limit`` due jobs, the first queue first; each queue's in priority order.

    With ``alone``, a job that must run alone comes first, and by itself.
    """
    claimed: list[ClaimedJob] = []
    params = {"locked_until": now + lease, "worker": worker, "now": now}
    for queue in queues if alone else ():
        row = conn.execute(SQL["claim_alone"], {**params, "queue": queue}).fetchone()
        if row is not None:
            return [claimed_job_from_row(row)]
    for queue in queues:
        rows = conn.execute(SQL["claim"], {**params, "queue": queue, "limit": limit - len(claimed)}).fetchall()
        rows.sort(key=lambda row: (-row["priority"], row["run_at"], row["id"]))
        claimed += [claimed_job_from_row(row) for row in rows]
        if len(claimed) >= limit:
            break
    return claimed


def _param(name: str) -> str:
    return f":{name}"


def _where(conditions: list[str]) -> str:
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


class SQLiteBackend(Upkeep, Redrives):
    """Jobs and dead letters in one SQLite file (or ``:memory:``, for tests in one process)."""

    def __init__(self, path: str, *, durability: Durability = "full", busy_timeout: float = 5.0) -> None:
        self.url = "sqlite://:memory:" if path == ":memory:" else f"sqlite:///{path}"
        self._db = Connections(path, durability=durability, busy_timeout=busy_timeout)
        self._data_version: int | None = None

    def migrate(self) -> int:
        """Bring the schema to the newest version."""
        return self._db.migrate()

    def close(self) -> None:
        """Close every connection."""
        self._db.close()

    # -- producers and workers -------------------------------------------------------------------

    def enqueue(self, jobs: Sequence[NewJob], *, connection: Any = None) -> list[JobId]:
        """Insert jobs: one statement when alone; many in one set-based statement over a JSON array."""
        if connection is not None:
            raise JobqError("enqueueing inside your own transaction needs the PostgreSQL backend")
        unique = any(job.unique_key is not None for job in jobs)
        if len(jobs) == 1 and not unique:
            self._db.execute_alone(SQL["insert_job"], _job_values(jobs[0]))
            return [jobs[0].id]
        with self._db.write() as conn:
            if unique:
                return [self._insert_one(conn, job) for job in jobs]
            for batch in _batches_sharing_options(jobs):
                # One JSON text per batch: SQLite unpacks it in C, twice as fast as binding row by row.
                shared = {name: getattr(batch[0], name) for name in _SHARED_FIELDS}
                rows = "[" + ",".join([f"[{_json_string(job.id)},{_payload_text(job)}]" for job in batch]) + "]"
                conn.execute(SQL["insert_batch_from_json"], {**shared, "rows": rows})
        return [job.id for job in jobs]

    def _insert_one(self, conn: sqlite3.Connection, job: NewJob) -> JobId:
        if conn.execute(SQL["insert_job"], _job_values(job)).rowcount == 1:
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
            conn.executemany(SQL["add_to_tally"], [(*key, value) for key, value in tally.items()])
        return applied

    def read_tally(self) -> list[tuple[str, str, float, float]]:
        """Every counter and bucket."""
        with self._db.read() as conn:
            return [tuple(row) for row in conn.execute(SQL["read_tally"])]

    def _apply(self, conn: sqlite3.Connection, outcome: Outcome) -> bool:
        lease = {"id": outcome.lease.job_id, "token": outcome.lease.token}
        match outcome:
            case Succeeded(at=at):
                row = conn.execute(SQL["ack"], {**lease, "at": at}).fetchone()
                if row is not None and row["replay_of"] is not None:
                    conn.execute(SQL["mark_recovered"], {"letter": row["replay_of"], "job": outcome.lease.job_id})
                return row is not None
            case RetryLater(error=error, run_at=run_at, expired_at=expired_at):
                params = {**lease, "run_at": run_at, "error": error_to_json(error), "expired_at": expired_at}
                return conn.execute(SQL["retry"], params).rowcount == 1
            case Released():
                return conn.execute(SQL["release"], lease).rowcount == 1
            case DeadLettered():
                return self._bury(conn, outcome)
        raise TypeError(f"unknown outcome {outcome!r}")  # pragma: no cover

    def _bury(self, conn: sqlite3.Connection, outcome: DeadLettered) -> bool:
        """Mark the job dead and write its dead letter: both in the caller's transaction, or neither."""
        params = {
            "id": outcome.lease.job_id,
            "token": outcome.lease.token,
            "at": outcome.at,
            "error": error_to_json(outcome.error),
            "expired_at": outcome.expired_at,
        }
        row = conn.execute(SQL["bury"], params).fetchone()
        if row is None:
            return False
        error = outcome.error
        prior = None
        if row["replay_of"] is not None:
            found = conn.execute(SQL["prior_recovery_round"], (row["replay_of"],)).fetchone()
            prior = None if found is None else found[0]
        plan = plan_recovery(
            outcome.recovery, recoverable=outcome.error_class == "recoverable", prior_round=prior, at=outcome.at
        )
        conn.execute(
            SQL["insert_dead_letter"],
            {
                **dict(zip(row.keys(), row, strict=True)),
                "id": outcome.dead_letter_id,
                "job_id": outcome.lease.job_id,
                "error_type": error.error_type,
                "error_message": error.message,
                "error_traceback": error.traceback,
                "error_class": outcome.error_class,
                "fingerprint": outcome.fingerprint,
                "max_attempts": outcome.max_attempts,
                "failed_at": outcome.at,
                "resolution": plan.resolution,
                "replayed_at": None,
                "replayed_as": None,
                "note": None,
                "recover_at": plan.recover_at,
                "recovery_round": plan.round,
                "previous_id": row["replay_of"],
            },
        )
        if outcome.hooks:  # each event carries the letter as written: a purge before delivery cannot silence it
            letter = json.dumps(dict(conn.execute(SQL["get_dead_letter"], (outcome.dead_letter_id,)).fetchone()))
            hooks = [(new_id(), kind, outcome.dead_letter_id, outcome.at, outcome.at, letter) for kind in outcome.hooks]
            conn.executemany(SQL["add_to_outbox"], hooks)
        return True

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

    # -- the main queue, for operators -----------------------------------------------------------

    def get_job(self, job_id: str) -> Job | None:
        """One job."""
        with self._db.read() as conn:
            row = conn.execute(SQL["get_job"], (job_id,)).fetchone()
        return None if row is None else job_from_row(row)

    def list_jobs(self, where: JobFilter, *, limit: int, cursor: str | None) -> list[Job]:
        """Jobs newest first."""
        conditions, params = job_conditions(where, _param)
        if cursor is not None:
            conditions.append("id < :cursor")
            params["cursor"] = cursor
        params["limit"] = limit
        sql = f"SELECT * FROM jobs {_where(conditions)} ORDER BY id DESC LIMIT :limit"
        with self._db.read() as conn:
            return [job_from_row(row) for row in conn.execute(sql, params)]

    def job_counts(self, *, now: float) -> dict[str, dict[str, int]]:
        """Counts by queue and state; queued jobs due later count as scheduled."""
        counts: dict[str, dict[str, int]] = {}
        with self._db.read() as conn:
            for row in conn.execute(SQL["job_counts"], {"now": now}):
                queue = counts.setdefault(
                    row["queue"], {"queued": 0, "scheduled": 0, "running": 0, "succeeded": 0, "dead": 0}
                )
                state = "scheduled" if row["status"] == "queued" and row["later"] else row["status"]
                queue[state] += row["n"]
        return counts

    def delete_jobs(self, statuses: Sequence[JobStatus], *, finished_before: float | None) -> int:
        """Delete jobs in the given states."""
        params: dict[str, Any] = {"statuses": json.dumps(list(statuses)), "before": finished_before}
        sql = (
            "DELETE FROM jobs WHERE status IN (SELECT value FROM json_each(:statuses))"
            " AND (:before IS NULL OR coalesce(finished_at, created_at) < :before)"
        )
        with self._db.write() as conn:
            return conn.execute(sql, params).rowcount

    # -- the dead-letter queue -------------------------------------------------------------------

    def _dead_where(self, where: DeadLetterFilter) -> tuple[list[str], dict[str, Any]]:
        search = "instr(lower(error_message), lower(:search)) > 0"
        return dead_letter_conditions(where, _param, search)

    def list_dead(
        self, where: DeadLetterFilter, *, limit: int, cursor: str | None, with_payload: bool
    ) -> list[DeadLetter]:
        """Dead letters newest first; the light form skips payload, history and traceback."""
        conditions, params = self._dead_where(where)
        if cursor is not None:
            conditions.append("id < :cursor")
            params["cursor"] = cursor
        params["limit"] = limit
        columns = "*" if with_payload else _LIGHT_DEAD_COLUMNS
        sql = f"SELECT {columns} FROM dead_letters {_where(conditions)} ORDER BY id DESC LIMIT :limit"
        with self._db.read() as conn:
            return [dead_letter_from_row(row) for row in conn.execute(sql, params)]

    def get_dead(self, dead_letter_id: str) -> DeadLetter | None:
        """One dead letter."""
        with self._db.read() as conn:
            row = conn.execute(SQL["get_dead_letter"], (dead_letter_id,)).fetchone()
        return None if row is None else dead_letter_from_row(row)

    def count_dead(self, where: DeadLetterFilter) -> int:
        """How many match."""
        conditions, params = self._dead_where(where)
        with self._db.read() as conn:
            count: int = conn.execute(f"SELECT count(*) FROM dead_letters {_where(conditions)}", params).fetchone()[0]
        return count

    def dead_ids(self, where: DeadLetterFilter, *, limit: int, cursor: str | None) -> list[DeadLetterId]:
        """Matching ids, newest first."""
        conditions, params = self._dead_where(where)
        if cursor is not None:
            conditions.append("id < :cursor")
            params["cursor"] = cursor
        params["limit"] = limit
        sql = f"SELECT id FROM dead_letters {_where(conditions)} ORDER BY id DESC LIMIT :limit"
        with self._db.read() as conn:
            return [DeadLetterId(row[0]) for row in conn.execute(sql, params)]

    def group_dead(self, where: DeadLetterFilter, *, by: GroupBy, limit: int) -> list[DeadLetterGroup]:
        """Groups with counts, first and last failure, and the newest letter as a sample."""
        column = _GROUP_COLUMNS[by]
        conditions, params = self._dead_where(where)
        params["limit"] = limit
        sql = (
            f"WITH groups AS (SELECT {column} AS value, count(*) AS n, min(failed_at) AS first_seen,"
            f" max(failed_at) AS last_seen, max(id) AS sample_id FROM dead_letters {_where(conditions)}"
            f" GROUP BY {column} ORDER BY n DESC, last_seen DESC LIMIT :limit)"
            " SELECT groups.*, d.error_type, d.error_message FROM groups"
            " JOIN dead_letters AS d ON d.id = groups.sample_id ORDER BY n DESC, last_seen DESC"
        )
        with self._db.read() as conn:
            return [
                DeadLetterGroup(
                    value=row["value"],
                    count=row["n"],
                    first_seen=to_datetime(row["first_seen"]),
                    last_seen=to_datetime(row["last_seen"]),
                    sample_id=DeadLetterId(row["sample_id"]),
                    sample_error_type=row["error_type"],
                    sample_message=row["error_message"],
                )
                for row in conn.execute(sql, params)
            ]

    def replay(
        self,
        dead_letter_id: str,
        job: NewJob,
        *,
        force: bool,
        audit: AuditEntry | None = None,
        redrive_id: str | None = None,
        redrive_owner: str | None = None,
    ) -> JobId:
        """Enqueue the replay and mark the letter in one ``BEGIN IMMEDIATE``: two racing callers make one job.

        Its audit entry and its step in a redrive are written in the same transaction.
        """
        with self._db.write() as conn:
            params = {"id": dead_letter_id, "now": job.created_at, "new_job_id": job.id, "force": force,
                      "redrive_id": redrive_id}  # fmt: skip
            if conn.execute(SQL["replay_dead_letter"], params).rowcount == 1:
                conn.execute(SQL["insert_job"], _job_values(job))
                conn.execute(SQL["add_to_tally"], ("replayed", job.queue, COUNTER, 1.0))
                record_replay(
                    conn, dead_letter_id, now=job.created_at, audit=audit, redrive=(redrive_id, redrive_owner)
                )
                return job.id
            row = conn.execute(SQL["get_dead_letter"], (dead_letter_id,)).fetchone()
        raise replay_refused(dead_letter_id, row)

    def resolve(
        self, dead_letter_id: str, resolution: str, *, note: str | None, audit: AuditEntry | None = None
    ) -> bool:
        """Abandon (or otherwise close) an open letter, with its audit entry in the same transaction."""
        params = {"id": dead_letter_id, "resolution": resolution, "note": note}
        with self._db.write() as conn:
            if conn.execute(SQL["resolve_dead_letter"], params).rowcount != 1:
                return False
            record_audit(conn, audit)
            return True

    def purge_dead(self, where: DeadLetterFilter, *, audit: AuditEntry | None = None) -> int:
        """Delete matching letters, counted in the audit trail."""
        conditions, params = self._dead_where(where)
        with self._db.write() as conn:
            count: int = conn.execute(f"DELETE FROM dead_letters {_where(conditions)}", params).rowcount
            record_audit(conn, audit and replace(audit, detail={**audit.detail, "count": count}))
        return count

    def insert_dead(self, letters: Sequence[DeadLetter]) -> int:
        """Store letters as they are; existing ids are skipped."""
        with self._db.write() as conn:
            return sum(conn.execute(SQL["insert_dead_letter"], letter_row(letter)).rowcount for letter in letters)

    def claim_deliveries(self, *, now: float, lease: float, limit: int) -> list[OutboxEntry]:
        """Due deliveries, claimed until ``now + lease``."""
        params = {"now": now, "until": now + lease, "limit": limit}
        with self._db.write() as conn:
            rows = conn.execute(SQL["claim_deliveries"], params).fetchall()
        return [outbox_entry_from_row(row) for row in rows]

    def release_deliveries(self, entry_ids: Sequence[str], *, now: float) -> None:
        """Give back claimed deliveries that were not tried."""
        if entry_ids:
            with self._db.write() as conn:
                conn.execute(SQL["release_deliveries"], {"ids": json.dumps(list(entry_ids)), "now": now})

    def finish_delivery(
        self, entry_id: str, *, state: str, next_at: float, delivered_to: Sequence[str], error: str | None
    ) -> None:
        """Record a delivery's outcome."""
        params = {"id": entry_id, "state": state, "next_at": next_at, "delivered_to": json.dumps(list(delivered_to)),
                  "error": error}  # fmt: skip
        with self._db.write() as conn:
            conn.execute(SQL["finish_delivery"], params)

    def outbox_counts(self) -> dict[str, int]:
        """Deliveries by state."""
        with self._db.read() as conn:
            return dict(conn.execute(SQL["outbox_counts"]).fetchall())

    def new_fingerprints(self, *, since: float) -> list[tuple[str, float, int]]:
        """Failures first seen since then."""
        with self._db.read() as conn:
            return [(row[0], row[1], row[2]) for row in conn.execute(SQL["new_fingerprints"], {"since": since})]

    def due_for_recovery(self, *, now: float, limit: int) -> list[DeadLetterId]:
        """Pending letters whose cool-down has passed."""
        with self._db.read() as conn:
            return [DeadLetterId(row[0]) for row in conn.execute(SQL["due_for_recovery"], {"now": now, "limit": limit})]

    def dead_summary(self, *, since: float) -> DeadLetterSummary:
        """Totals, recent count, mean attempts, and counts by class and resolution."""
        with self._db.read() as conn:
            row = conn.execute(SQL["dead_letter_summary"], {"since": since}).fetchone()
            by_class = dict(conn.execute(SQL["dead_letters_by_class"]).fetchall())
            by_resolution = dict(conn.execute(SQL["dead_letters_by_resolution"]).fetchall())
        return summary_from_row(row, by_class, by_resolution)


def _job_values(job: NewJob) -> tuple[Any, ...]:
    return (
        job.id, job.task, job.queue, job.priority, _payload_text(job), job.tenant, job.key,
        job.unique_key, job.max_attempts, job.run_at, job.created_at, job.replay_of,
    )  # fmt: skip


_json_string = json.encoder.encode_basestring  # C: a str as a JSON string literal


def _payload_text(job: NewJob) -> str:
    """The text the producer encoded once already (its checks done), or the payload encoded now."""
    return job.payload_text if job.payload_text is not None else dump_payload(job.payload)


_SHARED_FIELDS = ("task", "queue", "priority", "tenant", "key", "max_attempts", "run_at", "created_at", "replay_of")


def _batches_sharing_options(jobs: Sequence[NewJob]) -> list[list[NewJob]]:
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
