"""The shared store's seam on SQLite: ``:name`` placeholders, JSON arrays, ``BEGIN IMMEDIATE`` writes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

from jobq.backends.queries import load_queries
from jobq.backends.sqlite.connection import Connections
from jobq.backends.sqlite.enqueue import job_values
from jobq.backends.store.seam import Params, Row
from jobq.job import NewJob
from jobq.tally import Key as TallyKey

SQL = {
    name: statement
    for filename in ("queries.sql", "store.sql", "redrives.sql", "chores.sql", "control.sql")
    for name, statement in load_queries("jobq.backends.sqlite", filename).items()
}


class SQLiteSession:
    """A connection as the store sees it (``sqlite3.Row`` reads like a mapping)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def rows(self, sql: str, params: Params | None = None) -> Sequence[Row]:
        """Every row the statement returns."""
        return cast(Sequence[Row], self.conn.execute(sql, params or {}).fetchall())

    def row(self, sql: str, params: Params | None = None) -> Row | None:
        """The first row the statement returns, or None."""
        return cast(Row | None, self.conn.execute(sql, params or {}).fetchone())

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run a statement; the rows it changed."""
        return self.conn.execute(sql, params or {}).rowcount

    def run_each(self, sql: str, params: Sequence[Params]) -> None:
        """Run a statement once per parameter set."""
        self.conn.executemany(sql, params)

    def first_each(self, sql: str, params: Sequence[Params]) -> list[Row | None]:
        """Run a statement once per parameter set; the first row of each run, or None."""
        return [self.row(sql, one) for one in params]

    def add_to_tally(self, tally: Mapping[TallyKey, float]) -> None:
        """One upsert per counter or bucket."""
        add_to_tally(self.conn, tally)

    def insert_job(self, job: NewJob) -> None:
        """The single-job INSERT."""
        self.conn.execute(SQL["insert_job"], job_values(job))

    def notify(self, queues: Sequence[str]) -> None:
        """Nothing to do: a commit moves every other connection's ``data_version``, which idle workers watch."""


class SQLiteSeam:
    """The seam over this backend's connections."""

    sql: Mapping[str, str] = SQL
    # A value, never a pattern: instr() takes the text literally.
    search = "instr(lower(error_message), lower(:search)) > 0"

    def __init__(self, db: Connections) -> None:
        self._db = db

    def session(self, conn: sqlite3.Connection) -> SQLiteSession:
        """A connection the backend holds (its transaction), as the store sees it."""
        return SQLiteSession(conn)

    @contextmanager
    def read(self) -> Iterator[SQLiteSession]:
        """A session for reads (WAL lets them run beside a writer)."""
        with self._db.read() as conn:
            yield SQLiteSession(conn)

    @contextmanager
    def write(self, *, one_statement: bool = False) -> Iterator[SQLiteSession]:
        """A ``BEGIN IMMEDIATE`` transaction, whatever its size: it queues writers instead of making them spin."""
        with self._db.write() as conn:
            yield SQLiteSession(conn)

    def param(self, name: str) -> str:
        """``:name``."""
        return f":{name}"

    def array(self, values: Sequence[str]) -> Any:
        """A JSON array, which statements read with ``json_each``."""
        return json.dumps(list(values))

    def search_value(self, text: str) -> str:
        """The text itself."""
        return text

    def text(self, value: str) -> str:
        """SQLite stores any text."""
        return value

    def event_json(self, value: Mapping[str, Any]) -> str:
        """The event as JSON text."""
        return json.dumps(dict(value))


def add_to_tally(conn: sqlite3.Connection, tally: Mapping[TallyKey, float]) -> None:
    """Add to counters and buckets in this transaction."""
    conn.executemany(SQL["add_to_tally"], [(*key, value) for key, value in tally.items()])
