"""The PostgreSQL backend's named statements, and the few column lists its composed queries share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.rows import dict_row

from jobq.backends.postgres.connection import Connection
from jobq.backends.queries import load_queries
from jobq.tally import Key as TallyKey

SQL = load_queries("jobq.backends.postgres", "queries.sql")

JOB_COLUMNS = (
    "id, task, queue, status, priority, payload, tenant, key, unique_key, attempts, max_attempts, "
    "run_at, created_at, started_at, finished_at, worker, errors, replay_of"
)
DEAD_COLUMNS = (
    "id, job_id, task, queue, priority, tenant, key, payload, attempts, max_attempts, errors, error_type, "
    "error_message, error_traceback, error_class, fingerprint, failed_at, created_at, resolution, "
    "replayed_at, replayed_as, note, recover_at, recovery_round, previous_id"
)
LIGHT_DEAD_COLUMNS = (
    "id, job_id, task, queue, priority, tenant, key, attempts, max_attempts, error_type, error_message, "
    "error_class, fingerprint, failed_at, created_at, resolution, replayed_at, replayed_as, note, "
    "recover_at, recovery_round, previous_id"
)


def param(name: str) -> str:
    """A named placeholder in psycopg's style."""
    return f"%({name})s"


def where_clause(conditions: list[str]) -> str:
    """A WHERE clause ANDing whitelisted conditions (or nothing)."""
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


def dict_rows(conn: Connection, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every row of a query, as dicts keyed by column name."""
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchall()


def dict_row_or_none(conn: Connection, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """The first row of a query as a dict, or None."""
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchone()


def add_to_tally(conn: Connection, tally: Mapping[TallyKey, float]) -> None:
    """Add to counters and buckets, in key order (concurrent workers then lock rows in one order)."""
    keys = sorted(tally)
    conn.execute(
        SQL["add_to_tally"],
        {
            "names": [key[0] for key in keys],
            "queues": [key[1] for key in keys],
            "les": [key[2] for key in keys],
            "values": [tally[key] for key in keys],
        },
    )
