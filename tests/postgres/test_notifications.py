"""LISTEN/NOTIFY: ``changed()`` hears commits from anywhere without a round trip, and survives a kill."""

from __future__ import annotations

import threading
import time
from typing import Any

from jobq.backends.postgres import PostgresBackend
from jobq.backends.postgres.backend import COPY_AT_LEAST
from jobq.job import Released, RetryLater, Succeeded
from tests.contract.helpers import NOW, error, new_job

from .conftest import terminate


def settle(backend: PostgresBackend) -> None:
    """Swallow what is pending (the first look after connecting always answers True)."""
    while backend.wait_for_change(0.05):
        pass


def test_enqueue_from_another_backend_is_heard(pg: PostgresBackend, postgres_url: str) -> None:
    settle(pg)
    assert pg.changed() is False
    other = PostgresBackend(postgres_url)
    try:
        other.enqueue([new_job()])
        assert pg.wait_for_change(2.0) is True
        assert pg.changed() is False
        other.enqueue([new_job() for _ in range(200)])  # one statement for a batch notifies too
        assert pg.wait_for_change(2.0) is True
        assert pg.changed() is False
        other.enqueue([new_job() for _ in range(COPY_AT_LEAST)])  # and so does COPY
        assert pg.wait_for_change(2.0) is True
    finally:
        other.close()


def test_retry_and_release_notify_but_acks_do_not(pg: PostgresBackend) -> None:
    pg.enqueue([new_job(), new_job()])
    first, second = pg.claim(worker="w", queue="default", limit=2, lease=30, now=NOW)
    settle(pg)
    pg.record([RetryLater(first.lease, error(1), run_at=NOW)])
    assert pg.wait_for_change(2.0) is True
    pg.record([Released(second.lease)])
    assert pg.wait_for_change(2.0) is True
    (again,) = pg.claim(worker="w", queue="default", limit=1, lease=30, now=NOW)
    settle(pg)
    pg.record([Succeeded(again.lease, NOW)])
    assert pg.wait_for_change(0.2) is False


def test_a_blocked_waiter_wakes_within_milliseconds(pg: PostgresBackend, postgres_url: str) -> None:
    settle(pg)
    producer = PostgresBackend(postgres_url)
    latencies: list[float] = []
    try:
        producer.enqueue([new_job()])  # open the producer's pool outside the measurement
        settle(pg)
        for _ in range(20):
            sent = threading.Event()
            stamp: dict[str, float] = {}

            def produce(sent: Any = sent, stamp: dict[str, float] = stamp) -> None:
                sent.wait()
                time.sleep(0.01)
                producer.enqueue([new_job()])
                stamp["committed"] = time.perf_counter()

            thread = threading.Thread(target=produce)
            thread.start()
            sent.set()
            assert pg.wait_for_change(5.0) is True
            woke = time.perf_counter()
            thread.join()
            latencies.append(max(0.0, woke - stamp["committed"]))
    finally:
        producer.close()
    latencies.sort()
    assert latencies[len(latencies) // 2] < 0.05, latencies  # generous: a loaded 2-core CI machine


def test_listener_killed_by_the_server_reconnects_and_hears_again(
    pg: PostgresBackend, postgres_url: str, admin: Any
) -> None:
    settle(pg)
    assert terminate(admin, postgres_url) >= 1
    time.sleep(0.05)
    assert pg.changed() is True  # notifications may have been missed while it was down: look for work
    settle(pg)
    assert pg.changed() is False
    pg.enqueue([new_job()])
    assert pg.wait_for_change(2.0) is True


def test_an_enqueue_retried_after_an_unknown_commit_stores_each_job_once(pg: PostgresBackend) -> None:
    """The same jobs sent again (a commit whose outcome the producer never heard) are skipped, by every path."""
    for count in (1, 200, COPY_AT_LEAST):
        jobs = [new_job() for _ in range(count)]
        assert pg.enqueue(jobs) == [job.id for job in jobs]
        assert pg.enqueue(jobs) == [job.id for job in jobs]
    assert pg.job_counts(now=NOW)["default"]["queued"] == 1 + 200 + COPY_AT_LEAST
