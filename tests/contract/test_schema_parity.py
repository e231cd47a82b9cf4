"""Both dialects' migrations build the same schema: the same tables, the same columns, of alike types.

The shared store (``jobq.backends.store``) runs the same statements by name on both databases, so a column
added to one dialect's migrations only would break the other at run time; this catches it at test time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from jobq.backends.postgres import PostgresBackend
from jobq.backends.postgres.seam import SQL as POSTGRES_SQL
from jobq.backends.sqlite import SQLiteBackend
from jobq.backends.sqlite.seam import SQL as SQLITE_SQL

Schema = dict[str, dict[str, str]]
"""table → column → type family."""

# Declared types, loosely: SQLite keeps JSON as TEXT and booleans as integers.
_FAMILIES = {
    "text": "text",
    "json": "text",
    "jsonb": "text",
    "integer": "integer",
    "bigint": "integer",
    "boolean": "integer",
    "real": "real",
    "double precision": "real",
}
# Where each dialect keeps its schema version: PRAGMA user_version on SQLite, this table on PostgreSQL.
_POSTGRES_VERSION_TABLE = "jobq_schema_version"


def _family(declared: str) -> str:
    return _FAMILIES.get(declared.lower(), declared.lower())


def _sqlite_schema(path: Path) -> Schema:
    backend = SQLiteBackend(str(path))
    backend.migrate()
    backend.close()
    with sqlite3.connect(path) as conn:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            table: {row[1]: _family(row[2]) for row in conn.execute(f"PRAGMA table_info({table})")}
            for table in tables
            if not table.startswith("sqlite_")
        }


def _postgres_schema(url: str) -> Schema:
    backend = PostgresBackend(url)
    backend.migrate()
    backend.close()
    schema: Schema = {}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> %s",
            (_POSTGRES_VERSION_TABLE,),
        ).fetchall()
    for table, column, data_type in rows:
        schema.setdefault(table, {})[column] = _family(data_type)
    return schema


def test_both_dialects_migrate_to_the_same_tables_and_columns(tmp_path: Path, postgres_url: str) -> None:
    sqlite, postgres = _sqlite_schema(tmp_path / "jobq.db"), _postgres_schema(postgres_url)

    assert sorted(sqlite) == sorted(postgres)
    for table in sqlite:
        assert sorted(sqlite[table]) == sorted(postgres[table]), table
        assert sqlite[table] == postgres[table], table


# The hot path differs on purpose (batch shapes, COPY, NOTIFY); every other statement is asked for by name by
# the shared store, so both dialects must have it.
_HOT_PATH_ONLY = {
    "sqlite": {"extend_lease", "mark_recovered"},
    "postgres": {"copy_jobs", "extend_leases", "insert_batch", "insert_jobs", "notify"},
}


def test_both_dialects_name_the_same_statements() -> None:
    assert set(SQLITE_SQL) - set(POSTGRES_SQL) == _HOT_PATH_ONLY["sqlite"]
    assert set(POSTGRES_SQL) - set(SQLITE_SQL) == _HOT_PATH_ONLY["postgres"]
