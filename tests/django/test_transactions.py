"""Enqueue inside ``transaction.atomic()``: the job commits, or rolls back, with the caller's transaction."""

from __future__ import annotations

import pytest
from django.db import connections, transaction

from jobq.contrib.django import JobqBackend
from tests.django import tasks


class Rollback(Exception):
    pass


def test_a_rolled_back_transaction_leaves_no_job(backend: JobqBackend) -> None:
    with pytest.raises(Rollback), transaction.atomic(using=backend.database):
        result = tasks.add.enqueue(1, 2)
        raise Rollback
    assert backend.app.get_job(result.id) is None
    assert backend.app.list_jobs() == []


def test_a_committed_transaction_leaves_the_job(backend: JobqBackend) -> None:
    with transaction.atomic(using=backend.database):
        result = tasks.add.enqueue(1, 2)
    job = backend.app.get_job(result.id)
    assert job is not None and job.status == "queued"


def test_a_nested_savepoint_rolled_back_takes_its_job_with_it(backend: JobqBackend) -> None:
    with transaction.atomic(using=backend.database):
        kept = tasks.add.enqueue(1, 1)
        with pytest.raises(Rollback), transaction.atomic(using=backend.database):
            dropped = tasks.add.enqueue(2, 2)
            raise Rollback
    assert backend.app.get_job(kept.id) is not None
    assert backend.app.get_job(dropped.id) is None


@pytest.mark.parametrize("jobq_url", ["postgres"], indirect=True)
def test_on_postgres_the_job_is_written_inside_djangos_transaction(backend: JobqBackend, jobq_url: str) -> None:
    """Not deferred to on_commit: Django's own connection sees the job before the commit, and nobody else does."""
    schema = jobq_url.split("search_path%3D", 1)[1].split("&", 1)[0]
    with transaction.atomic(using="pg"):
        result = tasks.add.enqueue(3, 4)
        with connections["pg"].cursor() as cursor:
            cursor.execute(f'SELECT status FROM "{schema}".jobs WHERE id = %s', [result.id])
            assert cursor.fetchone() == ("queued",)
        assert backend.app.get_job(result.id) is None  # jobq's own connections: not committed yet
    assert backend.app.get_job(result.id) is not None


@pytest.mark.parametrize("jobq_url", ["sqlite"], indirect=True)
def test_on_sqlite_the_enqueue_waits_for_the_commit(backend: JobqBackend) -> None:
    with transaction.atomic(using=backend.database):
        result = tasks.add.enqueue(3, 4)
        assert backend.app.get_job(result.id) is None
    assert backend.app.get_job(result.id) is not None
