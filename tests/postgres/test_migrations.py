"""Versioned migrations: idempotent, refused when newer, and safe when many processes start at once."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest
from psycopg import sql

import jobq
from jobq.backends.postgres import PostgresBackend
from jobq.backends.queries import load_migrations
from tests.contract.helpers import new_job

from .conftest import schema_of


def test_many_backends_migrating_at_once_create_the_schema_once(postgres_url: str, admin: Any) -> None:
    backends = [PostgresBackend(postgres_url) for _ in range(8)]
    barrier = threading.Barrier(len(backends))
    versions: list[int] = []
    failures: list[BaseException] = []

    def migrate(backend: PostgresBackend) -> None:
        barrier.wait()
        try:
            versions.append(backend.migrate())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=migrate, args=(backend,)) for backend in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        assert len(set(versions)) == 1 and len(versions) == len(backends)
        table = sql.Identifier(schema_of(postgres_url), "jobq_schema_version")
        rows = admin.execute(sql.SQL("SELECT version FROM {}").format(table)).fetchall()
        numbers = [number for number, _name, _sql in load_migrations("jobq.backends.postgres")]
        assert sorted(row[0] for row in rows) == numbers and numbers[-1] == versions[0]  # each applied once
        backends[0].enqueue([new_job()])
    finally:
        for backend in backends:
            backend.close()


def test_migrate_is_idempotent_and_records_its_version(pg: PostgresBackend, postgres_url: str) -> None:
    migrations = load_migrations("jobq.backends.postgres")
    assert pg.migrate() == pg.migrate() == migrations[-1][0]
    with psycopg.connect(postgres_url) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM jobq_schema_version ORDER BY version")]
    assert names[0] == "0001_initial" and names == [name for _number, name, _sql in migrations]


def test_a_schema_newer_than_this_jobq_is_refused_with_one_line(pg: PostgresBackend, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("INSERT INTO jobq_schema_version (version, name) VALUES (99, '0099_future')")
    newer = PostgresBackend(postgres_url)
    with pytest.raises(jobq.JobqError, match="newer than this jobq knows") as caught:
        newer.migrate()
    newer.close()
    assert "\n" not in str(caught.value)
