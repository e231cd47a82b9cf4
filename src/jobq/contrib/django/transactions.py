"""Enqueue inside the caller's Django transaction: the job exists if and only if the transaction commits.

- Django on PostgreSQL, jobq on the same database: the job is inserted on Django's own connection, inside its
  transaction (jobq's transactional enqueue), so it commits, or rolls back, with the caller's rows: no window
  where the rows are committed and the job not yet.
- Anything else (SQLite, or two different databases): the enqueue waits for ``transaction.on_commit``. A
  rolled-back transaction leaves no job; a process that dies between the commit and the enqueue loses the job.
- Outside ``atomic()`` (autocommit): enqueued at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, transaction


def enqueue_with_transaction(enqueue: Callable[..., Any], *, database: str, url: str) -> None:
    """Run ``enqueue`` as the transaction of Django's ``database`` allows (see above)."""
    connection = connections[database]
    if not connection.in_atomic_block:
        enqueue()
        return
    shared = _same_postgres_database(connection, url)
    if shared is not None:
        enqueue(connection=shared)
    else:
        transaction.on_commit(enqueue, using=database)


def _same_postgres_database(connection: Any, url: str) -> Any:
    """Django's psycopg connection when it reaches jobq's database (host, port and name alike), else None."""
    if connection.vendor != "postgresql" or not url.startswith(("postgresql:", "postgres:")):
        return None
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    connection.ensure_connection()
    raw = connection.connection
    if not isinstance(raw, psycopg.Connection):
        return None  # psycopg2: jobq inserts with psycopg 3 only
    wanted = conninfo_to_dict(url)
    info = raw.info
    same = (
        str(wanted.get("host") or "") == info.host
        and str(wanted.get("port") or 5432) == str(info.port)
        and str(wanted.get("dbname") or "") == info.dbname
    )
    return raw if same else None
