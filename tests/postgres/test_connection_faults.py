"""Connections killed by the server (pg_terminate_backend, a restart): the next call works, nothing is lost."""

from __future__ import annotations

import os
import threading
import time
import warnings
from typing import Any

import psycopg
import pytest

import jobq
from jobq.backends.postgres import PostgresBackend
from jobq.errors import StorageError
from jobq.job import Succeeded
from tests.contract.helpers import NOW, new_job

from .conftest import schema_of, terminate


def test_every_connection_killed_while_idle_the_next_calls_just_work(
    pg: PostgresBackend, postgres_url: str, admin: Any
) -> None:
    pg.enqueue([new_job() for _ in range(5)])
    pg.changed()
    assert terminate(admin, postgres_url) >= 2  # the pooled connection(s) and the listener

    assert pg.changed() is True  # the listener noticed, re-listened, and says: look for work
    claimed = pg.claim(worker="w", queue="default", limit=10, lease=30, now=NOW)
    assert len(claimed) == 5
    assert pg.record([Succeeded(job.lease, NOW) for job in claimed]) == [True] * 5
    assert pg.job_counts(now=NOW)["default"]["succeeded"] == 5


def test_a_connection_killed_mid_transaction_fails_that_call_only_and_the_retry_applies(
    pg: PostgresBackend, postgres_url: str, admin: Any
) -> None:
    pg.enqueue([new_job()])
    (claimed,) = pg.claim(worker="w", queue="default", limit=1, lease=30, now=NOW)
    outcome = Succeeded(claimed.lease, NOW)
    errors: list[BaseException] = []
    with psycopg.connect(postgres_url) as blocker:  # holds the job's row lock: record() waits on it
        blocker.execute("SELECT 1 FROM jobs WHERE id = %s FOR UPDATE", (claimed.lease.job_id,))

        def record() -> None:
            try:
                pg.record([outcome])
            except StorageError as exc:
                errors.append(exc)

        thread = threading.Thread(target=record)
        thread.start()
        waiting = wait_for_pid(admin, postgres_url, "Lock")
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (waiting,))
        thread.join(10)
        blocker.rollback()
    assert len(errors) == 1 and "\n" not in str(errors[0])
    assert pg.record([outcome]) == [True]  # the next call gets a healthy connection; the fence lets it apply
    assert pg.record([outcome]) == [False]  # and never twice
    job = pg.get_job(claimed.lease.job_id)
    assert job is not None and job.status == "succeeded"


def wait_for_pid(admin: Any, url: str, wait_event_type: str) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        row = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND wait_event_type = %s",
            (schema_of(url), wait_event_type),
        ).fetchone()
        if row:
            return int(row[0])
        time.sleep(0.01)
    pytest.fail(f"no connection waiting on {wait_event_type}")


def test_a_worker_drains_everything_while_its_connections_are_killed_again_and_again(
    postgres_url: str, admin: Any
) -> None:
    total = 1500
    kills: list[int] = []
    runs: dict[int, int] = {}
    lock = threading.Lock()
    with jobq.App(postgres_url, lease=1.0) as app:

        @app.task(name="count", max_attempts=10, backoff=0)
        def count(n: int) -> None:
            time.sleep(0.003)
            with lock:
                runs[n] = runs.get(n, 0) + 1

        app.enqueue_many("count", [{"n": n} for n in range(total)])
        stop = threading.Event()

        def killer() -> None:
            while not stop.wait(0.1):
                kills.append(terminate(admin, postgres_url))

        chaos = threading.Thread(target=killer)
        chaos.start()
        deadline = time.monotonic() + 60
        try:
            while not all_succeeded(app, total) and time.monotonic() < deadline:
                app.run_worker(concurrency=4, burst=True, install_signal_handlers=False)
                time.sleep(0.2)
        finally:
            stop.set()
            chaos.join()
        app.run_worker(concurrency=4, burst=True, install_signal_handlers=False)  # settle after the chaos
        assert all_succeeded(app, total), app.stats()["queues"]
    assert set(runs) == set(range(total))  # every job ran: at least once, as promised
    assert sum(kills) >= 5, f"the chaos was too gentle to prove anything: {kills}"


def all_succeeded(app: jobq.App, total: int) -> bool:
    try:
        succeeded: int = app.stats()["queues"].get("default", {}).get("succeeded", 0)
        return succeeded == total
    except StorageError:
        return False


def test_a_forked_child_uses_connections_of_its_own_and_leaves_the_parents_working(pg: PostgresBackend) -> None:
    first, second = new_job(), new_job()
    pg.enqueue([first, second])
    pg.changed()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads: the child uses none of them
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        try:
            taken = pg.claim(worker="child", queue="default", limit=1, lease=30, now=NOW)
            ok = len(taken) == 1 and pg.record([Succeeded(taken[0].lease, NOW)]) == [True] and pg.changed()
            os._exit(0 if ok else 1)
        except BaseException:  # noqa: BLE001
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    (claimed,) = pg.claim(worker="parent", queue="default", limit=10, lease=30, now=NOW)
    assert pg.record([Succeeded(claimed.lease, NOW)]) == [True]
    pg.enqueue([new_job(queue="later")])
    assert pg.wait_for_change(2.0) is True
