"""The PostgreSQL backend's hot-path statements, and the helpers they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from psycopg.rows import dict_row

from jobq.backends.postgres.connection import Connection
from jobq.backends.queries import load_queries
from jobq.tally import Key as TallyKey

SQL = load_queries("jobq.backends.postgres", "queries.sql")


def dict_rows(conn: Connection, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every row of a query, as dicts keyed by column name."""
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchall()


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
