"""Worker processes on one database: sharing work, dying, being stopped, waking up.

Every test runs twice: on a SQLite file (several processes on one file is a supported set-up) and on a
PostgreSQL schema of its own (many workers against one server). Workers run in subprocesses
(``python -m procs_app``: ``app.run_worker`` with its signal handlers, as ``jobq worker`` runs it); the
tasks of ``procs_app`` leave one line per event in a log file, which tells what ran where and how often.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import jobq

from .subprocesses import Subprocess, wait_until

# ``shared_url`` is a database several processes can open: a SQLite file or a fresh PostgreSQL schema.
pytestmark = pytest.mark.parametrize("url", ["sqlite-file", "postgres"], indirect=True)


class WorkerProcess(Subprocess):
    """One worker process (``python -m procs_app``) on the test's database; its stderr goes to a file."""

    def __init__(
        self,
        folder: Path,
        url: str,
        log: Path,
        *,
        name: str,
        lease: float = 30.0,
        concurrency: int = 4,
        grace: float = 10.0,
        no_nap: bool = False,
    ) -> None:
        env = {"JOBQ_URL": url, "PROCS_LOG": str(log), "PROCS_LEASE": str(lease), "PROCS_NO_NAP": "1" if no_nap else ""}
        command = [sys.executable, "-m", "procs_app", "--concurrency", str(concurrency), "--grace", str(grace)]
        super().__init__(folder, name, command, env)

    def wait_started(self, timeout: float = 20.0) -> None:
        wait_until(lambda: "started" in self.stderr() or not self.alive(), timeout=timeout, what="worker start")
        assert self.alive(), f"worker {self.pid} died at start:\n{self.stderr()[-3000:]}"

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def spawn(tmp_path: Path, shared_url: str) -> Iterator[Callable[..., WorkerProcess]]:
    """Start worker processes; whatever is left running at the end is killed (only those we started)."""
    started: list[WorkerProcess] = []
    log = tmp_path / "trace.log"

    def start(name: str, **options: object) -> WorkerProcess:
        worker = WorkerProcess(tmp_path, shared_url, log, name=name, **options)  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def trace(tmp_path: Path) -> Callable[[], list[list[str]]]:
    """The lines the tasks left so far, split into fields."""
    path = tmp_path / "trace.log"

    def read() -> list[list[str]]:
        return [line.split() for line in path.read_text().splitlines()] if path.exists() else []

    return read


def status(app: jobq.App, job_id: str) -> str:
    job = app.get_job(job_id)
    assert job is not None
    return job.status


# -- sharing work --------------------------------------------------------------------------------------


def test_two_worker_processes_drain_a_queue_running_every_job_exactly_once(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    workers = [spawn(f"w{i}", concurrency=4) for i in range(2)]
    for worker in workers:
        worker.wait_started()

    count = 2000
    ids = producer.enqueue_many("procs.record", [{"n": n} for n in range(count)])
    wait_until(
        lambda: producer.stats()["queues"].get("default", {}).get("succeeded") == count,
        timeout=60, what=f"{count} jobs to succeed",
    )  # fmt: skip
    for worker in workers:
        worker.signal(signal.SIGTERM)
    assert [worker.wait_exit(15) for worker in workers] == [0, 0]

    done = [fields for fields in trace() if fields[0] == "done"]
    runs = Counter(int(fields[1]) for fields in done)
    assert sorted(runs) == list(range(count)), "every job ran"
    assert [n for n, times in runs.items() if times > 1] == [], "no job ran twice"
    by_pid = Counter(int(fields[2]) for fields in done)
    print(f"\njobs per worker process: {sorted(by_pid.values())}")
    assert set(by_pid) == {worker.pid for worker in workers}, f"both workers took part: {by_pid}"
    assert producer.stats()["queues"]["default"] == {
        "queued": 0, "scheduled": 0, "running": 0, "succeeded": count, "dead": 0, "cancelled": 0
    }  # fmt: skip
    jobs = producer.list_jobs(limit=count + 1)
    assert {job.id for job in jobs} == set(ids)
    assert {(job.status, job.attempts) for job in jobs} == {("succeeded", 1)}


# -- workers that die ------------------------------------------------------------------------------------


def test_job_of_a_killed_worker_is_rescued_after_its_lease_with_a_worker_lost_entry(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    job_id = producer.enqueue("procs.nap", {"n": 1, "seconds": 60})
    doomed = spawn("doomed", lease=1.0, concurrency=1)
    doomed.wait_for(lambda: ["start", "1", str(doomed.pid)] in trace(), what="the job to start")
    doomed.signal(signal.SIGKILL)
    assert doomed.wait_exit(10) == -signal.SIGKILL
    killed_at = time.monotonic()
    assert status(producer, job_id) == "running"

    rescuer = spawn("rescuer", lease=1.0, concurrency=1, no_nap=True)
    rescuer.wait_for(lambda: status(producer, job_id) == "succeeded", what="the job to be rescued and run")
    rescued_after = time.monotonic() - killed_at

    job = producer.get_job(job_id)
    assert job is not None and job.attempts == 2
    [error] = job.errors
    assert (error.error_type, error.attempt) == ("jobq.WorkerLost", 1)
    assert error.worker is not None and f":{doomed.pid}:" in error.worker
    assert ["end", "1", str(rescuer.pid)] in trace()
    assert ["end", "1", str(doomed.pid)] not in trace()
    assert rescued_after < 15
    rescuer.signal(signal.SIGTERM)
    assert rescuer.wait_exit(15) == 0


def test_job_that_kills_its_worker_every_time_ends_in_the_dlq_and_never_loops(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    job_id = producer.enqueue("procs.crash", {"n": 7}, max_attempts=2)
    killed: list[int] = []
    deadline = time.monotonic() + 40
    while status(producer, job_id) != "dead":
        assert time.monotonic() < deadline, f"job still {status(producer, job_id)} after {len(killed)} deaths"
        assert len(killed) <= 2, "the job keeps killing workers"
        worker = spawn(f"w{len(killed)}", lease=1.0, concurrency=1)
        wait_until(lambda w=worker: not w.alive() or status(producer, job_id) == "dead",  # type: ignore[misc]
                   timeout=30, what="the worker to die or the job to be dead-lettered")  # fmt: skip
        if not worker.alive():
            assert worker.proc.returncode == -signal.SIGKILL, worker.stderr()[-3000:]
            killed.append(worker.pid)

    survivor = worker
    assert survivor.alive(), "the worker that dead-lettered the job did not run it"
    survivor.signal(signal.SIGTERM)
    assert survivor.wait_exit(15) == 0

    assert len(killed) == 2
    assert [fields for fields in trace() if fields[0] == "start"] == [["start", "7", str(pid)] for pid in killed]
    job = producer.get_job(job_id)
    assert job is not None and (job.status, job.attempts) == ("dead", 2)
    assert [(e.error_type, e.attempt) for e in job.errors] == [("jobq.WorkerLost", 1), ("jobq.WorkerLost", 2)]
    assert all(e.worker and f":{pid}:" in e.worker for e, pid in zip(job.errors, killed, strict=True))
    [letter] = producer.dlq.list(with_payload=True)
    assert (letter.job_id, letter.attempts, letter.error_type) == (job_id, 2, "jobq.WorkerLost")
    assert letter.error_class == "system_error"
    assert letter.payload == {"args": [], "kwargs": {"n": 7}}
    assert f"Job {job_id} moved to DLQ after 2 attempts: jobq.WorkerLost" in survivor.stderr()


def test_live_worker_keeps_its_lease_on_a_job_longer_than_the_lease(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    workers = [spawn(f"w{i}", lease=1.0, concurrency=1) for i in range(2)]
    for worker in workers:
        worker.wait_started()
    job_id = producer.enqueue("procs.nap", {"n": 0, "seconds": 3.0})  # three leases long
    workers[0].wait_for(lambda: status(producer, job_id) == "succeeded", what="the long job to finish")

    job = producer.get_job(job_id)
    assert job is not None and (job.attempts, job.errors) == (1, ()), "heartbeats kept it: no rescue"
    assert len([fields for fields in trace() if fields[0] == "start"]) == 1
    for worker in workers:
        worker.signal(signal.SIGTERM)
    assert [worker.wait_exit(15) for worker in workers] == [0, 0]


def test_worker_that_lost_its_lease_cannot_overwrite_the_new_owners_outcome(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    job_id = producer.enqueue("procs.nap", {"n": 0, "seconds": 2.5})
    frozen = spawn("frozen", lease=1.0, concurrency=1)
    frozen.wait_for(lambda: ["start", "0", str(frozen.pid)] in trace(), what="the job to start")
    frozen.signal(signal.SIGSTOP)  # alive but silent: no heartbeats, so its lease runs out
    try:
        successor = spawn("successor", lease=1.0, concurrency=1)
        successor.wait_for(lambda: ["start", "0", str(successor.pid)] in trace(), what="the job to be taken over")
    finally:
        frozen.signal(signal.SIGCONT)

    # The frozen worker wakes up, finishes its (old) attempt and tries to record it: fenced off.
    frozen.wait_for(lambda: ["end", "0", str(frozen.pid)] in trace(), what="the old attempt to end")
    successor_ended = ["end", "0", str(successor.pid)] in trace()
    job = producer.get_job(job_id)
    assert job is not None
    if not successor_ended:  # the usual case: the successor still naps
        assert (job.status, job.attempts) == ("running", 2), "the stale worker's outcome was applied"
        assert job.worker is not None and f":{successor.pid}:" in job.worker

    successor.wait_for(lambda: status(producer, job_id) == "succeeded", what="the new owner to finish")
    job = producer.get_job(job_id)
    assert job is not None and job.attempts == 2
    assert [(e.error_type, e.attempt) for e in job.errors] == [("jobq.WorkerLost", 1)]
    assert job.errors[0].worker is not None and f":{frozen.pid}:" in job.errors[0].worker
    for worker in (frozen, successor):
        worker.signal(signal.SIGTERM)
    assert [worker.wait_exit(15) for worker in (frozen, successor)] == [0, 0]


# -- stopping ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_lets_the_running_job_finish_and_leaves_waiting_jobs_queued_uncharged(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]], signum: int
) -> None:
    running_id = producer.enqueue("procs.nap", {"n": 0, "seconds": 1.0}, priority=10)
    waiting_ids = [producer.enqueue("procs.nap", {"n": n, "seconds": 0}) for n in range(1, 6)]
    worker = spawn("graceful", concurrency=1, grace=10)
    worker.wait_for(lambda: ["start", "0", str(worker.pid)] in trace(), what="the first job to start")
    claimed = [job_id for job_id in waiting_ids if status(producer, job_id) != "queued"]
    assert not claimed, "a worker claims only the jobs it starts at once: with one slot busy, none more"

    worker.signal(signum)
    signalled = time.monotonic()
    assert worker.wait_exit(10) == 0
    took = time.monotonic() - signalled

    assert took < 10, "exited within the grace period"
    assert ["end", "0", str(worker.pid)] in trace()
    job = producer.get_job(running_id)
    assert job is not None and (job.status, job.attempts, job.errors) == ("succeeded", 1, ())
    for job_id in waiting_ids:
        waiting = producer.get_job(job_id)
        assert waiting is not None
        assert (waiting.status, waiting.attempts, waiting.errors) == ("queued", 0, ()), waiting
    assert [fields for fields in trace() if fields[0] == "start"] == [["start", "0", str(worker.pid)]]


def test_job_still_running_when_the_grace_period_ends_is_released_uncharged(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    job_id = producer.enqueue("procs.nap", {"n": 0, "seconds": 60})
    worker = spawn("short-grace", concurrency=1, grace=0.5)
    worker.wait_for(lambda: ["start", "0", str(worker.pid)] in trace(), what="the job to start")

    worker.signal(signal.SIGTERM)
    signalled = time.monotonic()
    assert worker.wait_exit(10) == 0
    took = time.monotonic() - signalled

    assert 0.4 <= took < 5, f"stopped {took:.2f} s after SIGTERM with a 0.5 s grace period"
    job = producer.get_job(job_id)
    assert job is not None
    assert (job.status, job.attempts, job.errors) == ("queued", 0, ()), "back in the queue, no attempt charged"
    assert ["end", "0", str(worker.pid)] not in trace()


def test_second_sigterm_stops_at_once_and_the_job_comes_back_after_its_lease(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    job_id = producer.enqueue("procs.nap", {"n": 0, "seconds": 60})
    worker = spawn("impatient", lease=1.0, concurrency=1, grace=60)
    worker.wait_for(lambda: ["start", "0", str(worker.pid)] in trace(), what="the job to start")

    worker.signal(signal.SIGTERM)
    worker.wait_for(lambda: "SIGTERM" in worker.stderr(), what="the first SIGTERM to be handled")
    with pytest.raises(subprocess.TimeoutExpired):
        worker.proc.wait(0.5)  # graceful: still waiting for the running job
    worker.signal(signal.SIGTERM)
    signalled = time.monotonic()
    returncode = worker.wait_exit(10)
    took = time.monotonic() - signalled

    print(f"\nsecond SIGTERM: exit code {returncode} after {took * 1000:.0f} ms")
    assert took < 3, f"the second SIGTERM took {took:.1f} s to stop the worker"
    assert returncode == 0
    assert status(producer, job_id) == "running", "not released: its lease runs out instead"

    rescuer = spawn("rescuer", lease=1.0, concurrency=1, no_nap=True)
    rescuer.wait_for(lambda: status(producer, job_id) == "succeeded", what="the job to come back")
    job = producer.get_job(job_id)
    assert job is not None and job.attempts == 2
    assert [(e.error_type, e.attempt) for e in job.errors] == [("jobq.WorkerLost", 1)]
    rescuer.signal(signal.SIGTERM)
    assert rescuer.wait_exit(15) == 0


# -- waking up ------------------------------------------------------------------------------------------


def test_idle_worker_in_another_process_picks_up_a_new_job_within_a_second(
    producer: jobq.App, spawn: Callable[..., WorkerProcess], trace: Callable[[], list[list[str]]]
) -> None:
    worker = spawn("idle", concurrency=2)
    producer.enqueue("procs.record", {"n": -1})  # warm-up: the worker is up and its connection open
    worker.wait_for(lambda: any(f[:2] == ["done", "-1"] for f in trace()), what="the warm-up job")

    latencies = []
    for n in range(20):
        enqueued = time.time()
        producer.enqueue("procs.record", {"n": n})
        wait_until(lambda n=n: any(f[:2] == ["done", str(n)] for f in trace()),  # type: ignore[misc]
                   timeout=10, what=f"job {n}")  # fmt: skip
        [ran_at] = [float(f[3]) for f in trace() if f[:2] == ["done", str(n)]]
        latencies.append(ran_at - enqueued)

    median = statistics.median(latencies)
    print(f"\nidle worker pick-up latency: median {median * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms")
    assert median < 1.0 and max(latencies) < 1.0, latencies
    worker.signal(signal.SIGTERM)
    assert worker.wait_exit(15) == 0
