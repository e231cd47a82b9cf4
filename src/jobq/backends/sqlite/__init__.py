"""The embedded SQLite backend."""

from jobq.backends.sqlite.backend import SQLiteBackend

__all__ = ["SQLiteBackend"]
