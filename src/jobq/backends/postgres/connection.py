"""PostgreSQL connections: a lazily opened pool, cheap checks for killed connections, one-line errors."""

from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from jobq.errors import StorageError

Durability = Literal["full", "normal"]
Connection = psycopg.Connection[Any]

# What a forked child inherited from its parent: kept referenced and never used nor closed, because closing
# (or garbage-collecting) it would send the server a goodbye on sockets the parent still uses.
_inherited: list[object] = []


def forked(pid: int) -> bool:
    """Is this a child process of the one that was ``pid`` when a connection was opened?"""
    return pid != os.getpid()


def abandon(inherited: object) -> None:
    """Keep what a forked child inherited out of its way for good (see ``_inherited``)."""
    _inherited.append(inherited)


class Database:
    """The pool every operation borrows from, opened on first use (importing an app touches nothing).

    Connections are in autocommit: a single statement is its own transaction (one round trip, no BEGIN);
    ``transaction()`` groups several. A connection killed while idle in the pool (``pg_terminate_backend``,
    a server restart) is noticed before it is lent out — the server's goodbye is already waiting on its
    socket — and replaced, so the next call after a fault works instead of failing once per dead connection.
    """

    def __init__(
        self,
        url: str,
        *,
        durability: Durability,
        lock_timeout: float,
        min_connections: int,
        max_connections: int,
        wait_timeout: float,
    ) -> None:
        self.url = url
        self.where = describe(url)
        self._settings = {
            # "normal": a server crash may lose the last few commits (never corrupts), like SQLite's NORMAL.
            "synchronous_commit": "on" if durability == "full" else "off",
            "lock_timeout": f"{round(lock_timeout * 1000)}ms",
            # Statements are prepared (parsed once per connection) but planned for their actual values each
            # time: a generic plan made while the queue was empty would scan the whole table once it is not,
            # until the next ANALYZE — and partial indexes need the values (status, resolution) to apply.
            "plan_cache_mode": "force_custom_plan",
        }
        self._min, self._max = min_connections, max_connections
        self._wait_timeout = wait_timeout
        self._pool: ConnectionPool[Connection] | None = None
        self._pid = os.getpid()
        self._schema: str | None = None
        self._lock = threading.Lock()

    # -- opening -----------------------------------------------------------------------------------

    @property
    def schema(self) -> str:
        """The schema jobq's tables live in: the first existing one on the connection's search_path."""
        self._opened()
        assert self._schema is not None
        return self._schema

    def _opened(self) -> ConnectionPool[Connection]:
        pool = self._pool
        if pool is not None and not forked(self._pid):
            return pool
        with self._lock:
            if self._pool is not None and forked(self._pid):
                abandon(self._pool)  # a forked child opens a pool of its own
                self._pool = None
            if self._pool is None:
                self._schema = self._probe()
                self._pool = ConnectionPool(
                    self.url,
                    kwargs={"autocommit": True},
                    min_size=self._min,
                    max_size=self._max,
                    open=False,
                    configure=self._configure,
                    timeout=self._wait_timeout,
                    max_idle=300.0,
                    num_workers=2,
                    name=f"jobq {self.where}",
                )
                self._pool.open(wait=False)
                self._pid = os.getpid()
            return self._pool

    def _probe(self) -> str:
        """Connect once, directly: an unreachable server fails now with libpq's own reason, not a pool timeout."""
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                row = conn.execute("SELECT current_schema()").fetchone()
        except psycopg.Error as exc:
            raise storage_error(exc, self.where) from exc
        if row is None or row[0] is None:
            raise StorageError(
                f"database {self.where}: no schema to use (the search_path names none that exists); "
                "create the schema or fix the URL's options=-csearch_path=…"
            )
        schema: str = row[0]
        return schema

    def _configure(self, conn: Connection) -> None:
        # Payloads are stored as ``json`` (the text kept verbatim) and decoded by jobq, not by psycopg: numbers
        # come back as Python reads the original text, and a row no reader could show is shown degraded.
        conn.adapters.register_loader("json", TextLoader)
        for name, value in self._settings.items():
            conn.execute("SELECT set_config(%s, %s, false)", (name, value))

    def connect(self, **kwargs: Any) -> Connection:
        """A new connection outside the pool (for LISTEN), with this database's session settings."""
        conn = psycopg.connect(self.url, autocommit=True, **kwargs)
        self._configure(conn)
        return conn

    # -- borrowing ---------------------------------------------------------------------------------

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection in autocommit; psycopg errors become StorageError."""
        pool = self._opened()
        try:
            conn = self._healthy(pool)
        except PoolTimeout as exc:
            raise StorageError(
                f"database {self.where}: no connection within {self._wait_timeout:g} s "
                f"(is the server up? are all {self._max} pool connections busy?)"
            ) from exc
        try:
            yield conn
        except psycopg.Error as exc:
            raise storage_error(exc, self.where) from exc
        finally:
            pool.putconn(conn)

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Connection]:
        """A pooled connection inside BEGIN … COMMIT (rolled back on any error).

        ``durable=False`` commits without waiting for the WAL flush: safe from a crash of this process, undone
        by a crash of the server until the next durable commit, which flushes it too (the WAL is in order).
        """
        with self.connection() as conn, conn.transaction():
            if not durable and self.waits_for_flush:
                conn.execute(SQL_LAZY_COMMIT)
            yield conn

    @property
    def waits_for_flush(self) -> bool:
        """Does a commit wait for the WAL flush (durability "full")?"""
        return self._settings["synchronous_commit"] == "on"

    def _healthy(self, pool: ConnectionPool[Connection]) -> Connection:
        # Bounded: a server restart leaves every idle connection dead; each is discarded at once.
        for _ in range(self._max + 1):
            conn = pool.getconn()
            if not _hung_up(conn):
                return conn
            conn.close()
            pool.putconn(conn)  # a closed connection is discarded and replaced by the pool
        return pool.getconn()

    def close(self) -> None:
        """Close the pool (it opens again on next use)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and forked(self._pid):
            abandon(pool)
        elif pool is not None:
            pool.close()


def _hung_up(conn: Connection) -> bool:
    """An idle connection has nothing to read unless the server said goodbye (or the socket is gone)."""
    if conn.closed or conn.broken:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def describe(url: str) -> str:
    """``host:port/dbname`` for messages: never the password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable PostgreSQL URL)"
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


SQL_LAZY_COMMIT = "SELECT set_config('synchronous_commit', 'off', true)"
"""This transaction's commit does not wait for the WAL flush (a statement, so it can open a batch of them)."""


def storage_error(exc: psycopg.Error, where: str) -> StorageError:
    """A one-line error an operator can act on."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return StorageError(f"database {where}: {text} ({_hint(exc)})")


def _hint(exc: psycopg.Error) -> str:
    if isinstance(exc, pg_errors.LockNotAvailable):
        return "another transaction holds a lock too long; try again or raise busy_timeout"
    if isinstance(exc, pg_errors.UndefinedTable):
        return "the schema is missing: run `jobq migrate`"
    if isinstance(exc, pg_errors.UntranslatableCharacter | pg_errors.CharacterNotInRepertoire):
        return "PostgreSQL text and JSON cannot hold NUL characters (\\u0000)"
    if isinstance(exc, pg_errors.DiskFull):
        return "the server's disk is full; nothing was written"
    if isinstance(exc, pg_errors.TooManyConnections):
        return "the server has no free connection slots; lower max_connections of the workers"
    if isinstance(exc, psycopg.OperationalError):
        return "the connection failed or was closed; the next call reconnects"
    return "PostgreSQL refused the operation"
