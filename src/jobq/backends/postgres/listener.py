"""LISTEN/NOTIFY: one dedicated connection per backend that hears of commits made anywhere."""

from __future__ import annotations

import hashlib
import os
import select
import threading
import time
from contextlib import suppress

import psycopg
from psycopg import sql

from jobq.backends.postgres.connection import Connection, Database, abandon, forked, storage_error
from jobq.errors import StorageError

RECONNECT_EVERY = 1.0  # seconds between attempts to re-listen while the server is away


def channel_for(schema: str) -> str:
    """The NOTIFY channel of one jobq schema (channels are per database, schemas share them)."""
    name = f"jobq.{schema}"
    # Channel names are identifiers: at most 63 bytes.
    return name if len(name.encode()) <= 63 else f"jobq.{hashlib.sha256(schema.encode()).hexdigest()[:40]}"


class Listener:
    """Drains notifications without blocking, reconnecting (and re-listening) after the connection dies.

    Notifications are sent when the notifying transaction commits, so an enqueue that rolls back never
    wakes anybody. While the connection was down notifications may have been missed: the first look
    after (re)connecting answers True, and the caller simply looks for work.
    """

    def __init__(self, db: Database, channel: str) -> None:
        self._db = db
        self.channel = channel
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._pid = os.getpid()

    def changed(self) -> bool:
        """Did any notification arrive since the last look? Costs one non-blocking read."""
        with self._lock:
            self._leave_inherited()
            if self._conn is None:
                self._listen()
                return True
            return self._drain()

    def wait(self, timeout: float) -> bool:
        """Block until a notification arrives or ``timeout`` seconds pass; True when one did."""
        with self._lock:
            self._leave_inherited()
            if self._conn is None:
                self._listen()
                return True
            if self._drain():
                return True
            conn = self._conn
        with suppress(OSError, ValueError):  # closed under us: the drain below notices and reconnects
            select.select([conn.fileno()], [], [], timeout)
        with self._lock:
            return self._conn is None or self._drain()

    def _leave_inherited(self) -> None:
        if self._conn is not None and forked(self._pid):
            abandon(self._conn)  # the parent's socket: a child listens on a connection of its own
            self._conn = None

    def _listen(self) -> None:
        if time.monotonic() < self._retry_at:
            raise StorageError(f"database {self._db.where}: not listening for notifications (reconnecting)")
        try:
            # TCP keepalives: a peer that vanished without closing (a dead host) is noticed within a minute.
            conn = self._db.connect(keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except psycopg.Error as exc:
            self._retry_at = time.monotonic() + RECONNECT_EVERY
            raise storage_error(exc, self._db.where) from exc
        self._conn, self._pid = conn, os.getpid()

    def _drain(self) -> bool:
        assert self._conn is not None
        pgconn = self._conn.pgconn
        try:
            # libpq sockets are non-blocking: this reads what has arrived, or nothing, at once. A killed
            # connection leaves the server's goodbye and then the end of the stream: the second read
            # meets the end, so a dead connection is noticed on the first look.
            for _ in range(2):
                pgconn.consume_input()
                if not _readable(self._conn):
                    break
            if pgconn.status != psycopg.pq.ConnStatus.OK:
                raise psycopg.OperationalError("connection lost")
        except psycopg.OperationalError:
            self._drop()
            return True  # we may have missed notifications: look for work
        heard = False
        while pgconn.notifies() is not None:
            heard = True
        return heard

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        """Stop listening."""
        with self._lock:
            self._leave_inherited()
            self._drop()


def _readable(conn: Connection) -> bool:
    try:
        return bool(select.select([conn.fileno()], [], [], 0)[0])
    except (OSError, ValueError):
        return True
