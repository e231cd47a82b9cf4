"""Periodic ticks, cancels and pauses with real worker processes, on a SQLite file and on a PostgreSQL schema.

The workers run ``python -m flow_app``; its tasks leave one line per event in a log file.
"""

from __future__ import annotations

import itertools
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import jobq

from .subprocesses import Subprocess, wait_until

pytestmark = pytest.mark.parametrize("url", ["sqlite-file", "postgres"], indirect=True)

Spawn = Callable[..., Subprocess]


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "flow.log"


@pytest.fixture
def spawn(tmp_path: Path, shared_url: str, log: Path) -> Iterator[Spawn]:
    """Start worker processes of ``flow_app``; whatever is left running at the end is killed (only ours)."""
    started: list[Subprocess] = []

    def start(name: str, *, periodic: bool = False) -> Subprocess:
        env = {"JOBQ_URL": shared_url, "FLOW_LOG": str(log), "FLOW_PERIODIC": "1" if periodic else ""}
        worker = Subprocess(tmp_path, name, [sys.executable, "-m", "flow_app"], env)
        started.append(worker)
        worker.wait_for(lambda: "started" in worker.stderr(), what="worker start")
        return worker

    yield start
    for worker in started:
        if worker.alive():
            worker.proc.kill()
        worker.proc.wait(10)


def lines(log: Path, kind: str) -> list[list[str]]:
    if not log.exists():
        return []
    return [line.split() for line in log.read_text().splitlines() if line.startswith(kind + " ")]


def status(app: jobq.App, job_id: str) -> str:
    job = app.get_job(job_id)
    assert job is not None
    return job.status


def stop_all(workers: list[Subprocess]) -> None:
    for worker in workers:
        worker.signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait_exit(20) == 0, worker.stderr()[-3000:]


def test_four_workers_enqueue_each_tick_of_a_schedule_once(spawn: Spawn, producer: jobq.App, log: Path) -> None:
    workers = [spawn(f"w{n}", periodic=True) for n in range(4)]
    time.sleep(20)
    stop_all(workers)

    jobs = producer.list_jobs(task="flow.tick", limit=1000)
    ticks = sorted(job.run_at.timestamp() for job in jobs if job.run_at is not None)
    assert len(ticks) >= 17, ticks  # one a second for the 20 s all four ran
    assert len(set(ticks)) == len(ticks), "a tick was enqueued twice"
    assert [b - a for a, b in itertools.pairwise(ticks)] == [1.0] * (len(ticks) - 1), "a tick is missing"
    assert all(tick == int(tick) for tick in ticks)  # on the whole seconds, whichever worker enqueued it
    ran = lines(log, "tick")
    assert len(ran) >= len(ticks) - 2  # the last tick or two may have been enqueued as the workers stopped
    assert {job.status for job in jobs} <= {"succeeded", "queued"}


def test_a_cancelled_async_job_stops_at_its_next_await(spawn: Spawn, producer: jobq.App, log: Path) -> None:
    spawn("w1")
    job_id = producer.enqueue("flow.wait_async", {"n": 1})
    wait_until(lambda: bool(lines(log, "start")), timeout=20, what="the job to start")

    asked = time.time()
    assert producer.cancel(job_id, by="test") is True
    wait_until(lambda: status(producer, job_id) == "cancelled", timeout=10, what="the job to be cancelled")

    [cancelled] = lines(log, "cancelled")
    assert float(cancelled[2]) - asked < 3.0  # seen within a second or so, stopped at the next await
    assert not lines(log, "end")
    job = producer.get_job(job_id)
    assert job is not None and job.errors == () and job.attempts == 1  # not a failure, not retried
    assert producer.dlq.count() == 0


def test_a_def_job_that_polls_stops_when_cancelled(spawn: Spawn, producer: jobq.App, log: Path) -> None:
    spawn("w1")
    job_id = producer.enqueue("flow.wait_polling", {"n": 2})
    wait_until(lambda: bool(lines(log, "start")), timeout=20, what="the job to start")

    asked = time.time()
    assert producer.cancel(job_id) is True
    wait_until(lambda: status(producer, job_id) == "cancelled", timeout=10, what="the job to be cancelled")

    [stopped] = lines(log, "stopped")
    assert float(stopped[2]) - asked < 3.0
    assert not lines(log, "end")
    job = producer.get_job(job_id)
    assert job is not None and job.errors == () and job.attempts == 1
    assert producer.dlq.count() == 0
    [entry] = [e for e in producer.dlq.audit_log() if e.action == "cancelled"]
    assert entry.detail["job_id"] == job_id and entry.detail["was"] == "running"


def test_a_paused_queue_claims_nothing_until_resumed(spawn: Spawn, producer: jobq.App, log: Path) -> None:
    ids = [producer.enqueue("flow.note", {"n": n}, queue="held") for n in range(5)]
    assert producer.pause("held", by="test") is True
    spawn("w1")
    spawn("w2")

    time.sleep(3)  # every worker has looked many times
    assert [status(producer, i) for i in ids] == ["queued"] * 5
    assert not lines(log, "note")
    assert producer.stats()["paused"] == ["held"]

    resumed = time.time()
    assert producer.resume("held") is True
    wait_until(lambda: len(lines(log, "note")) == 5, timeout=10, what="the queue to drain after the resume")
    assert max(float(line[2]) for line in lines(log, "note")) - resumed < 2.0
