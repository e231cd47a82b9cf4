"""Storage backends, chosen by URL: ``sqlite:///path`` (default) or ``postgresql://…``.

``contract.py`` is what the rest of jobq may ask of a backend. The operator side (dead letters, outbox,
redrives, audit, chores, dead-lettering) is written once in ``store/``, over a small per-database seam;
``sqlite/`` and ``postgres/`` each keep only their hot path, connections, statements and migrations.
"""

from __future__ import annotations

from typing import Any

from jobq.backends.contract import Backend
from jobq.errors import JobqError

DEFAULT_URL = "sqlite:///./jobq.db"


def open_backend(url: str, **options: Any) -> Backend:
    """The backend for ``url``, not yet migrated. Unknown schemes fail with a one-line error."""
    if url.startswith("sqlite:"):
        from jobq.backends.sqlite import SQLiteBackend

        return SQLiteBackend(sqlite_path(url), **options)
    if url.startswith(("postgresql:", "postgres:")):
        return _postgres(url, **options)
    raise JobqError(f"unsupported database URL {url!r}: use sqlite:///path/to/file.db or postgresql://…")


def _postgres(url: str, **options: Any) -> Backend:
    try:
        from jobq.backends.postgres import PostgresBackend
    except ImportError as exc:
        if not (exc.name or "").startswith("psycopg"):
            raise
        raise JobqError(
            f"{url.split(':', 1)[0]} URLs need psycopg, which is not installed: pip install 'jobq[postgres]'"
        ) from None
    return PostgresBackend(url, **options)


def sqlite_path(url: str) -> str:
    """``sqlite:///rel.db`` → ``rel.db``, ``sqlite:////abs.db`` → ``/abs.db``, ``sqlite://:memory:``."""
    rest = url.removeprefix("sqlite:").removeprefix("//")
    if rest in (":memory:", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/") or rest == "/":
        raise JobqError(f"bad SQLite URL {url!r}: use sqlite:///relative.db or sqlite:////absolute/path.db")
    return rest[1:]
