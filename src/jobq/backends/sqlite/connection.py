"""SQLite connections: pragmas, short write transactions, errors translated into one clear line."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from jobq.backends.queries import load_migrations
from jobq.errors import StorageError

Durability = Literal["full", "normal"]


class Connections:
    """One connection per thread (one shared for ``:memory:``), and a process-wide write lock.

    SQLite admits one writer at a time. Threads of one process queue on ``_write_lock`` instead of
    spinning in SQLite's busy handler, whose sleeps (up to 100 ms) would wreck latency; other processes
    still meet ``busy_timeout``.
    """

    def __init__(self, path: str, *, durability: Durability, busy_timeout: float) -> None:
        self.path = path
        self._memory = path == ":memory:"
        self._synchronous = "FULL" if durability == "full" else "NORMAL"
        self._busy_timeout = busy_timeout
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._shared = self._open() if self._memory else None

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=self._busy_timeout)
            conn.row_factory = sqlite3.Row
            if not self._memory:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self._synchronous}")
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout * 1000)}")
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc
        with self._opened_lock:
            self._opened.append(conn)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection."""
        if self._shared is not None:
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._open()
        return conn

    @contextmanager
    def write(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A ``BEGIN IMMEDIATE`` transaction: the write lock is taken up front, so it never deadlocks.

        ``durable=False`` commits without waiting for the disk (``synchronous=NORMAL``): safe from a process
        crash, undone by a power loss until the next durable commit, which syncs it too (the WAL is in order).
        """
        with self._write_lock:
            conn = self.connection()
            lazy = not durable and self._synchronous == "FULL"
            try:
                if lazy:
                    conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from exc
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise storage_error(exc, self.path) from exc
                raise
            finally:
                if lazy:
                    conn.execute("PRAGMA synchronous=FULL")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reads (WAL lets them run beside a writer; ``:memory:`` is shared, so locked)."""
        try:
            if self._shared is not None:
                with self._write_lock:
                    yield self._shared
            else:
                yield self.connection()
        except sqlite3.Error as exc:
            raise storage_error(exc, self.path) from exc

    def execute_alone(self, sql: str, params: Sequence[Any]) -> None:
        """One statement that is its own transaction: the cheapest write (a single enqueue is the hot path)."""
        with self._write_lock:
            try:
                self.connection().execute(sql, params)
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from exc

    def migrate(self) -> int:
        """Apply the migrations newer than ``PRAGMA user_version``, each in its own transaction."""
        migrations = load_migrations("jobq.backends.sqlite")
        with self.write() as conn:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > migrations[-1][0]:
                raise StorageError(
                    f"database {self.path!r} has schema version {version}, newer than this jobq knows "
                    f"({migrations[-1][0]}): upgrade jobq"
                )
            for number, _name, sql in migrations:
                if number > version:
                    for statement in _statements(sql):
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={number}")
                    version = number
        return version

    def close(self) -> None:
        """Close every connection this object opened, in any thread."""
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
        self._local = threading.local()


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            if pending.strip():
                yield pending
            pending = ""


def storage_error(exc: sqlite3.Error, path: str) -> StorageError:
    """A one-line error an operator can act on."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        hint = "another process holds a long write lock; try again or raise busy_timeout"
    elif "disk is full" in text or "full" in text:
        hint = "the disk is full; free space, nothing was written"
    elif "unable to open" in text:
        hint = "the file or its folder is missing or not writable"
    elif "readonly" in text:
        hint = "the database is read-only"
    else:
        hint = "SQLite refused the operation"
    return StorageError(f"database {path!r}: {text} ({hint})")
