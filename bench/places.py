"""Where a workload's databases live: SQLite files in a temporary folder, or fresh PostgreSQL schemas.

A workload asks its place for ``url(name)`` once per database it needs; ``close()`` removes them all
(the folder, or every schema, after ending the connections left on it).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import quote

Backend = Literal["sqlite", "postgres"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "postgres")
TITLES: dict[Backend, str] = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

# The machine's PostgreSQL (trust auth), as the tests use it, unless told otherwise.
POSTGRES_URL = os.environ.get(
    "JOBQ_BENCH_POSTGRES_URL", os.environ.get("JOBQ_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
)


class Place(Protocol):
    """Fresh databases of one backend for one workload; ``directory`` holds worker logs."""

    backend: Backend
    directory: Path

    def url(self, name: str) -> str: ...

    def close(self) -> None: ...


class SqlitePlace:
    """Every database a new file in a temporary folder."""

    backend: Backend = "sqlite"

    def __init__(self, prefix: str, parent: Path | None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix, dir=parent)
        self.directory = Path(self._tmp.name)

    def url(self, name: str) -> str:
        return f"sqlite:///{self.directory / f'{name}.db'}"

    def close(self) -> None:
        self._tmp.cleanup()


class PostgresPlace:
    """Every database a new schema on one server, named on the URL's search_path and application_name."""

    backend: Backend = "postgres"

    def __init__(self, prefix: str, parent: Path | None, server: str = POSTGRES_URL) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix=prefix, dir=parent)
        self.directory = Path(self._tmp.name)
        self.server = server
        self._schemas: list[str] = []

    def url(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        schema = f"jobq_bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.server, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        self._schemas.append(schema)
        return schema_url(self.server, schema)

    def close(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.server, autocommit=True) as conn:
            for schema in self._schemas:
                conn.execute(
                    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                    " WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (schema,),
                )
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        self._schemas.clear()
        self._tmp.cleanup()


def schema_url(server: str, schema: str) -> str:
    """``server`` with ``schema`` first on the search_path, and as the connections' application_name."""
    separator = "&" if "?" in server else "?"
    return f"{server}{separator}options={quote(f'-csearch_path={schema}')}&application_name={schema}"


def postgres_unreachable(server: str = POSTGRES_URL) -> str | None:
    """Why the PostgreSQL server cannot be used (None when it can)."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    try:
        psycopg.connect(server, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {server}: {' '.join(str(exc).split())}"
    return None
