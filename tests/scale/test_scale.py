"""Many worker processes on one database drain thousands of jobs: each exactly once, and none lost to SIGKILL.

Every test runs on a fresh PostgreSQL schema and on a SQLite file (several processes on one file is a
supported set-up). The short size (2 processes x concurrency 4, 2,000 jobs, one kill) runs by default; the
full size (4 x 8, 20,000 jobs, a worker SIGKILLed and restarted every few seconds) is marked slow:
``pytest -m slow tests/scale``.

Workers are ``python -m scale_app`` subprocesses; every run of a job leaves ``start <n> <pid>`` and, once done,
``end <n> <pid>`` in a log, so the log says how often each job really ran and where, independently of what
the database says.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import jobq

from ..integration.subprocesses import pid_of, wait_until

HERE = Path(__file__).resolve().parent
TASK = "scale.record"

pytestmark = [pytest.mark.scale, pytest.mark.parametrize("url", ["sqlite-file", "postgres"], indirect=True)]


@dataclass(frozen=True)
class Scale:
    """How big a run is, and how often a worker is killed in the chaos variant."""

    processes: int
    concurrency: int
    jobs: int
    kills: int  # at most this many SIGKILLs (each followed by a restart)
    kill_every: float = 2.0  # seconds between two kills
    pause: float = 0.0  # seconds each job takes in the chaos variant, so that kills land mid-drain
    lease: float = 3.0  # short, so lost jobs come back quickly; long enough for heartbeats under full load
    timeout: float = 60.0  # seconds the drain may take

    def __str__(self) -> str:
        return f"{self.processes} processes x concurrency {self.concurrency}, {self.jobs:,} jobs"


SHORT = Scale(processes=2, concurrency=4, jobs=2_000, kills=1)
FULL = Scale(processes=4, concurrency=8, jobs=20_000, kills=8, pause=0.02, timeout=300.0)
SIZES = [
    pytest.param(SHORT, id="short"),
    pytest.param(FULL, id="full", marks=[pytest.mark.slow, pytest.mark.timeout(900)]),
]


class WorkerProcess:
    """One ``python -m scale_app`` process; its stderr goes to a file."""

    def __init__(self, folder: Path, env: dict[str, str], concurrency: int, name: str) -> None:
        self.stderr_path = folder / f"{name}.stderr"
        command = [sys.executable, "-m", "scale_app", "--concurrency", str(concurrency)]
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(command, env=env, cwd=folder, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
        self.pid = self.proc.pid

    def stderr_tail(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-3000:]

    def alive(self) -> bool:
        return self.proc.poll() is None


class Fleet:
    """The worker processes of one test: started, killed and restarted, stopped."""

    def __init__(self, folder: Path, url: str, log: Path) -> None:
        self.folder = folder
        self.log = log
        self.env = {**os.environ, "JOBQ_URL": url, "SCALE_LOG": str(log)}
        self.env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
        self.workers: list[WorkerProcess] = []  # live ones, oldest first
        self.killed: list[WorkerProcess] = []
        self._started = 0

    def start(self, scale: Scale, count: int = 1) -> None:
        """Start ``count`` workers and wait until each runs its loop."""
        self.env["SCALE_LEASE"] = str(scale.lease)
        fresh = []
        for _ in range(count):
            self._started += 1
            fresh.append(WorkerProcess(self.folder, self.env, scale.concurrency, f"w{self._started}"))
        for worker in fresh:
            wait_until(lambda w=worker: not w.alive() or "started" in w.stderr_path.read_text(),  # type: ignore[misc]
                       timeout=30, what=f"worker {worker.pid} to start")  # fmt: skip
            assert worker.alive(), f"worker {worker.pid} died at start:\n{worker.stderr_tail()}"
        self.workers += fresh

    def kill_a_busy_worker_and_restart(self, scale: Scale, holding: set[int]) -> bool:
        """SIGKILL the oldest worker that holds claimed jobs right now, and start another in its place.

        A worker can be between batches with nothing claimed; killing it then would lose nothing, so the
        victim is chosen among the pids the database shows holding running jobs (False: none did).
        """
        busy = [worker for worker in self.workers if worker.pid in holding]
        if not busy:
            return False
        victim = busy[0]
        self.workers.remove(victim)
        victim.proc.kill()
        assert victim.proc.wait(10) == -signal.SIGKILL
        self.killed.append(victim)
        self.start(scale)
        return True

    def stop(self) -> None:
        """SIGTERM every live worker; each must exit cleanly."""
        for worker in self.workers:
            worker.proc.send_signal(signal.SIGTERM)
        for worker in self.workers:
            try:
                code = worker.proc.wait(30)
            except subprocess.TimeoutExpired:
                pytest.fail(f"worker {worker.pid} ignored SIGTERM for 30 s:\n{worker.stderr_tail()}")
            assert code == 0, f"worker {worker.pid} exited with {code}:\n{worker.stderr_tail()}"

    def kill_leftovers(self) -> None:
        for worker in self.workers:
            if worker.alive():
                worker.proc.kill()
            worker.proc.wait(10)

    def runs(self, event: str) -> list[tuple[int, int]]:
        """``(n, pid)`` for every run of a job so far that reached ``event`` (``start`` or ``end``)."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [(int(n), int(pid)) for kind, n, pid in (line.split() for line in lines) if kind == event]

    def ended_so_far(self) -> int:
        return self.log.read_bytes().count(b"end ") if self.log.exists() else 0


@pytest.fixture
def fleet(tmp_path: Path, shared_url: str) -> Iterator[Fleet]:
    """Worker processes on the test's database; whatever is left running at the end is killed."""
    workers = Fleet(tmp_path, shared_url, tmp_path / "runs.log")
    yield workers
    workers.kill_leftovers()


def enqueue(producer: jobq.App, scale: Scale, *, pause: float = 0.0) -> None:
    for start in range(0, scale.jobs, 1_000):
        calls = [{"n": n, "pause": pause} for n in range(start, min(scale.jobs, start + 1_000))]
        producer.enqueue_many(TASK, calls)


def succeeded(producer: jobq.App) -> int:
    return int(producer.stats()["queues"].get("default", {}).get("succeeded", 0))


def all_jobs(producer: jobq.App, scale: Scale) -> dict[int, jobq.Job]:
    """Every job, by its payload number."""
    jobs = producer.list_jobs(limit=scale.jobs + 1)
    assert len(jobs) == scale.jobs
    return {job.payload["kwargs"]["n"]: job for job in jobs}


# -- nothing crashes -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", SIZES)
def test_worker_processes_drain_the_queue_running_every_job_exactly_once(
    scale: Scale, producer: jobq.App, fleet: Fleet
) -> None:
    fleet.start(scale, scale.processes)
    started = time.monotonic()
    enqueue(producer, scale)
    wait_until(lambda: succeeded(producer) == scale.jobs, timeout=scale.timeout, what=f"{scale.jobs:,} jobs")
    took = time.monotonic() - started
    fleet.stop()

    runs = fleet.runs("end")
    times = Counter(n for n, _ in runs)
    assert sorted(times) == list(range(scale.jobs)), "every job ran"
    assert [n for n, count in times.items() if count > 1] == [], "no job ran twice"
    assert sorted(fleet.runs("start")) == sorted(runs), "and none was started again"
    by_pid = Counter(pid for _, pid in runs)
    print(f"\n{scale}: {scale.jobs / took:,.0f} jobs/s (enqueue included); jobs per process {sorted(by_pid.values())}")
    assert set(by_pid) == {worker.pid for worker in fleet.workers}, "every worker process took part"
    jobs = all_jobs(producer, scale)
    assert {(job.status, job.attempts, job.errors) for job in jobs.values()} == {("succeeded", 1, ())}
    ran = set(runs)
    assert all((n, pid_of(job.worker)) in ran for n, job in jobs.items()), "ran where the database says"


# -- workers are SIGKILLed and restarted -----------------------------------------------------------------


def drain_while_killing(producer: jobq.App, fleet: Fleet, scale: Scale) -> float:
    """Wait for every job to succeed, killing (and restarting) a worker every ``kill_every`` seconds while a
    tenth to nine tenths of the jobs have run, so each kill lands mid-drain; returns the drain's seconds."""
    started = time.monotonic()
    last_kill = 0.0
    while (done := succeeded(producer)) < scale.jobs:
        assert time.monotonic() - started < scale.timeout, f"only {done:,} of {scale.jobs:,} jobs succeeded"
        ran = fleet.ended_so_far()
        in_window = scale.jobs // 10 <= ran <= scale.jobs * 9 // 10
        if in_window and len(fleet.killed) < scale.kills and time.monotonic() - last_kill >= scale.kill_every:
            holding = {pid_of(job.worker) for job in producer.list_jobs(status="running", limit=1000)}
            if fleet.kill_a_busy_worker_and_restart(scale, holding):
                last_kill = time.monotonic()
        time.sleep(0.05)
    return time.monotonic() - started


def assert_lost_attempts_recorded(job: jobq.Job, killed: set[int]) -> None:
    """A job that succeeded after losing attempts: one WorkerLost per lost attempt, each naming a killed worker."""
    assert job.status == "succeeded", job
    assert job.attempts == len(job.errors) + 1, f"every attempt but the last left an error: {job}"
    assert [error.attempt for error in job.errors] == list(range(1, job.attempts)), job
    assert {error.error_type for error in job.errors} <= {"jobq.WorkerLost"}, job
    assert {pid_of(error.worker) for error in job.errors} <= killed, f"only killed workers lose attempts: {job}"


@pytest.mark.parametrize("scale", SIZES)
def test_sigkilled_workers_lose_no_job_and_every_lost_attempt_is_recorded(
    scale: Scale, producer: jobq.App, fleet: Fleet
) -> None:
    fleet.start(scale, scale.processes)
    enqueue(producer, scale, pause=scale.pause)
    took = drain_while_killing(producer, fleet, scale)
    fleet.stop()

    assert fleet.killed, "the drain ended before any worker was killed: make it longer"
    killed = {worker.pid for worker in fleet.killed}
    jobs = all_jobs(producer, scale)
    for job in jobs.values():
        assert_lost_attempts_recorded(job, killed)
    assert producer.dlq.count() == 0

    runs = fleet.runs("end")
    times = Counter(n for n, _ in runs)
    assert sorted(times) == list(range(scale.jobs)), "every job ran to the end at least once"
    starts = Counter(n for n, _ in fleet.runs("start"))
    too_often = {n: (starts[n], job.attempts) for n, job in jobs.items() if starts[n] > job.attempts}
    assert too_often == {}, "no job was started more often than its recorded attempts"
    ran = set(runs)
    assert all((n, pid_of(job.worker)) in ran for n, job in jobs.items()), "the last attempt ran"

    lost = Counter(pid_of(error.worker) for job in jobs.values() for error in job.errors)
    assert set(lost) == killed, f"each kill lost the attempts its worker held: {lost}"
    reruns = sum(times.values()) - scale.jobs
    interrupted = sum(starts.values()) - sum(times.values())
    print(
        f"\n{scale}: {len(killed)} kills in {took:.1f} s, {sum(lost.values())} lost attempts recorded"
        f" ({sorted(lost.values())} per kill), {interrupted} runs cut short by a kill,"
        f" {reruns} jobs ran again after finishing unrecorded,"
        f" at most {max(job.attempts for job in jobs.values())} attempts for one job"
    )
