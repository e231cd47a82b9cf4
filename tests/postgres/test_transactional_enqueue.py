"""Enqueue inside the caller's own transaction: the job exists if and only if the caller commits."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from jobq.backends.postgres import PostgresBackend
from jobq.errors import StorageError
from tests.conftest import POSTGRES_URL
from tests.contract.helpers import new_job


def orders_table(conn: Any) -> None:
    conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL)")


def test_job_enqueued_in_a_committed_transaction_exists_with_the_callers_rows(
    pg: PostgresBackend, postgres_url: str
) -> None:
    job = new_job(tenant="acme")
    with psycopg.connect(postgres_url) as conn:  # not autocommit: one transaction until commit
        orders_table(conn)
        conn.execute("INSERT INTO orders (item) VALUES ('book')")
        assert pg.enqueue([job], connection=conn) == [job.id]
        assert pg.get_job(job.id) is None, "not visible to others before the caller commits"
        conn.commit()
    stored = pg.get_job(job.id)
    assert stored is not None and (stored.status, stored.tenant) == ("queued", "acme")


def test_job_enqueued_in_a_rolled_back_transaction_never_exists_nor_wakes_anyone(
    pg: PostgresBackend, postgres_url: str
) -> None:
    pg.changed()
    jobs = [new_job(), new_job(unique_key="k"), *(new_job() for _ in range(3))]
    with psycopg.connect(postgres_url) as conn:
        assert pg.enqueue(jobs, connection=conn) == [job.id for job in jobs]
        conn.rollback()
    assert all(pg.get_job(job.id) is None for job in jobs)
    assert pg.wait_for_change(0.2) is False
    assert pg.claim(worker="w", queue="default", limit=10, lease=30, now=jobs[0].run_at) == []


def test_an_exception_in_the_callers_transaction_block_takes_the_job_with_it(
    pg: PostgresBackend, postgres_url: str
) -> None:
    job = new_job()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with pytest.raises(RuntimeError), conn.transaction():
            pg.enqueue([job], connection=conn)
            raise RuntimeError("the order could not be saved")
        assert pg.get_job(job.id) is None
        with conn.transaction():
            pg.enqueue([job], connection=conn)
    assert pg.get_job(job.id) is not None


def test_the_notification_is_sent_at_commit(pg: PostgresBackend, postgres_url: str) -> None:
    pg.changed()
    with psycopg.connect(postgres_url) as conn:
        pg.enqueue([new_job()], connection=conn)
        assert pg.wait_for_change(0.2) is False
        conn.commit()
        assert pg.wait_for_change(2.0) is True


def test_callers_connection_may_have_another_search_path(pg: PostgresBackend) -> None:
    job = new_job()
    with psycopg.connect(POSTGRES_URL) as conn:  # the server's default search_path, not the jobq schema
        pg.enqueue([job], connection=conn)
        conn.commit()
    assert pg.get_job(job.id) is not None


def test_a_failed_enqueue_is_a_storage_error_and_leaves_the_transaction_to_the_caller(
    pg: PostgresBackend, postgres_url: str
) -> None:
    with psycopg.connect(postgres_url) as conn:
        # Text the json column refuses (the payload rule refuses it long before, in App.enqueue).
        with pytest.raises(StorageError, match="json"):
            pg.enqueue([new_job(payload_text='{"args": [1,')], connection=conn)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
        conn.rollback()


def test_app_enqueue_with_a_connection_commits_or_rolls_back_with_the_caller(postgres_url: str) -> None:
    import jobq

    with jobq.App(postgres_url) as app:

        @app.task(name="ship")
        def ship(order: str) -> None:
            pass

        with psycopg.connect(postgres_url) as conn:
            kept = app.enqueue("ship", {"order": "o-1"}, connection=conn)
            conn.commit()
        with psycopg.connect(postgres_url) as conn:
            dropped = app.enqueue("ship", {"order": "o-2"}, connection=conn)
            conn.rollback()
        assert getattr(app.get_job(kept), "status", None) == "queued"
        assert app.get_job(dropped) is None


def test_sqlite_refuses_a_callers_connection_with_one_line(tmp_path: Any) -> None:
    import jobq

    with jobq.App(f"sqlite:///{tmp_path / 'q.db'}") as app, pytest.raises(jobq.JobqError, match="needs the PostgreSQL"):
        app.enqueue("ship", {"order": "o-1"}, connection=object())
