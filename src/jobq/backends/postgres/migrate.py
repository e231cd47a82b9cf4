"""Versioned migrations, safe when many processes start at once against one database."""

from __future__ import annotations

from jobq.backends.postgres.connection import Connection
from jobq.backends.queries import load_migrations
from jobq.errors import StorageError

VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS jobq_schema_version (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def current_version(conn: Connection) -> int:
    """The schema version of the connection's schema (0 when jobq was never migrated there)."""
    found = conn.execute("SELECT to_regclass('jobq_schema_version') IS NOT NULL").fetchone()
    if not (found and found[0]):
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM jobq_schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: Connection, where: str) -> int:
    """Apply the migrations this schema lacks, all in one transaction; returns the version.

    Processes that start together queue on a transaction-scoped advisory lock (one per schema); the
    first applies the migrations, the others then find the schema current and do nothing. The common
    case — already current — takes no lock at all.
    """
    migrations = load_migrations("jobq.backends.postgres")
    newest = migrations[-1][0]
    version = current_version(conn)
    if version == newest:
        return version
    with conn.transaction():
        # Migrations take table locks; do not let a busy queue make them fail after a short lock_timeout.
        conn.execute("SET LOCAL lock_timeout = '60s'")
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('jobq.migrate'), hashtext(current_schema()))")
        conn.execute(VERSION_TABLE)
        version = current_version(conn)
        if version > newest:
            raise StorageError(
                f"database {where} has schema version {version}, newer than this jobq knows ({newest}): upgrade jobq"
            )
        for number, name, script in migrations:
            if number > version:
                conn.execute(script.encode())  # no parameters: several statements in one go
                conn.execute("INSERT INTO jobq_schema_version (version, name) VALUES (%s, %s)", (number, name))
                version = number
    return version
