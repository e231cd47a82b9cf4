"""The shared store's seam on PostgreSQL: ``%(name)s`` placeholders, text[] arrays, pooled connections."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from psycopg.rows import dict_row

from jobq.backends.postgres.connection import Connection, Database
from jobq.backends.postgres.enqueue import Inserter
from jobq.backends.postgres.statements import SQL as STATEMENTS
from jobq.backends.postgres.statements import add_to_tally
from jobq.backends.queries import load_queries
from jobq.backends.store.seam import Params, Row
from jobq.fingerprint import storable_text
from jobq.job import NewJob
from jobq.tally import Key as TallyKey

SQL = {
    **STATEMENTS,
    **load_queries("jobq.backends.postgres", "store.sql"),
    **load_queries("jobq.backends.postgres", "redrives.sql"),
    **load_queries("jobq.backends.postgres", "chores.sql"),
    **load_queries("jobq.backends.postgres", "control.sql"),
}


class PostgresSession:
    """A pooled connection as the store sees it: rows as dicts."""

    def __init__(self, conn: Connection, inserter: Callable[[], Inserter]) -> None:
        self.conn = conn
        self._inserter = inserter

    def rows(self, sql: str, params: Params | None = None) -> Sequence[Row]:
        """Every row the statement returns."""
        rows: Sequence[Row] = self.conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()
        return rows

    def row(self, sql: str, params: Params | None = None) -> Row | None:
        """The first row the statement returns, or None."""
        row: Row | None = self.conn.cursor(row_factory=dict_row).execute(sql, params).fetchone()
        return row

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; the rows it changed."""
        return self.conn.execute(sql, params).rowcount

    def run_each(self, sql: str, params: Sequence[Params]) -> None:
        """Run a statement once per parameter set, pipelined: one round trip for the lot."""
        self.conn.cursor().executemany(sql, params)

    def first_each(self, sql: str, params: Sequence[Params]) -> list[Row | None]:
        """Run a statement once per parameter set, pipelined; the first row of each run, or None."""
        cursor = self.conn.cursor(row_factory=dict_row)
        cursor.executemany(sql, params, returning=True)
        results: list[Row | None] = []
        while True:
            results.append(cursor.fetchone())
            if not cursor.nextset():
                return results

    def add_to_tally(self, tally: Mapping[TallyKey, float]) -> None:
        """Every counter in one statement over arrays."""
        add_to_tally(self.conn, tally)

    def insert_job(self, job: NewJob) -> None:
        """The job, and a NOTIFY for its queue's listeners when this transaction commits."""
        self._inserter().insert(self.conn, [job])

    def notify(self, queues: Sequence[str]) -> None:
        """NOTIFY the queues' listeners, heard when this transaction commits."""
        self.conn.execute(SQL["notify"], {"channel": self._inserter().channel, "queues": list(queues)})


class PostgresSeam:
    """The seam over this backend's pool; ``inserter`` is asked for when a replay enqueues (it needs the schema)."""

    sql: Mapping[str, str] = SQL
    # The search text is a value, never a pattern: its wildcards are escaped (backslash is ILIKE's escape).
    search = "error_message ILIKE %(search)s"

    def __init__(self, db: Database, inserter: Callable[[], Inserter]) -> None:
        self._db = db
        self._inserter = inserter

    def session(self, conn: Connection) -> PostgresSession:
        """A connection the backend holds (its transaction), as the store sees it."""
        return PostgresSession(conn, self._inserter)

    @contextmanager
    def read(self) -> Iterator[PostgresSession]:
        """A pooled connection in autocommit."""
        with self._db.connection() as conn:
            yield self.session(conn)

    @contextmanager
    def write(self, *, one_statement: bool = False) -> Iterator[PostgresSession]:
        """BEGIN … COMMIT; one statement runs in autocommit instead (atomic by itself, one round trip less)."""
        with self._db.connection() if one_statement else self._db.transaction() as conn:
            yield self.session(conn)

    def param(self, name: str) -> str:
        """``%(name)s``."""
        return f"%({name})s"

    def array(self, values: Sequence[str]) -> Any:
        """A list, which psycopg sends as an array."""
        return list(values)

    def search_value(self, text: str) -> str:
        """``text`` anywhere, with ``%``, ``_`` and ``\\`` taken literally."""
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"

    def text(self, value: str) -> str:
        """PostgreSQL text holds no NUL nor lone surrogate."""
        return storable_text(value)

    def event_json(self, value: Mapping[str, Any]) -> str:
        """JSON text jsonb accepts: no NUL characters nor lone surrogates, which an error message may carry."""
        return json.dumps(_storable(value), ensure_ascii=False)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, Mapping):
        return {storable_text(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value
