"""An attempt is charged only when it started: crashes and frozen workers never dead-letter an innocent job; the
supervisor of ``jobq worker --processes N`` replaces the worker processes that die, and stops them all.

Real ``jobq worker`` processes (``poison_app``) on a SQLite file and on a PostgreSQL schema of their own.
Every handler appends ``<task> <n> <pid> <time>`` to a log when it starts, so the test knows which process
started which job how often, and compares that with what the database charged.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import jobq

from .subprocesses import pid_of, wait_until
from .worker_cli import CliWorker, process_alive, read_starts

pytestmark = pytest.mark.parametrize("url", ["sqlite-file", "postgres"], indirect=True)

CONCURRENCY = 4  # jobs each worker process runs at once: at most this many can be lost with it
LOST = "jobq.WorkerLost"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    """Where the handlers leave one line per start."""
    return tmp_path / "starts.log"


@pytest.fixture
def start(tmp_path: Path, shared_url: str, log: Path) -> Iterator[Callable[..., CliWorker]]:
    """Start ``jobq worker`` processes; whatever is left running at the end is killed (only those we started)."""
    started: list[CliWorker] = []

    def launch(name: str, *args: str, lease: float = 1.0) -> CliWorker:
        started.append(CliWorker(tmp_path, shared_url, log, *args, name=name, lease=lease))
        return started[-1]

    yield launch
    for worker in started:
        worker.kill()


def lost_by(job: jobq.Job) -> list[int]:
    """The pids of the workers each WorkerLost attempt of ``job`` names."""
    return [pid_of(error.worker) for error in job.errors if error.error_type == LOST]


# -- the poison-pill run -----------------------------------------------------------------------------------


@dataclass
class PoisonRun:
    """What a poison-pill run left: the jobs as stored, and the starts the handlers logged."""

    normal: list[jobq.Job]
    pills: list[jobq.Job]
    missing: int
    starts: Counter[tuple[str, int]]
    starts_by_pid: Counter[tuple[str, int, int]]
    seconds: float
    terminal_in_time: bool

    def figures(self) -> str:
        normal_runs = [self.starts["normal", n] for n in range(len(self.normal))]
        dead_runs = [runs for runs, job in zip(normal_runs, self.normal, strict=True) if job.status == "dead"]
        return (
            f"{len(self.normal)} normal + {len(self.pills)} poison jobs in {self.seconds:.1f} s: "
            f"normal dead {sum(job.status == 'dead' for job in self.normal)} "
            f"(starts logged per dead one: {sorted(Counter(dead_runs).items())}), "
            f"not terminal {sum(job.status not in ('succeeded', 'dead') for job in self.normal + self.pills)}, "
            f"missing {self.missing}, "
            f"normal with a WorkerLost {sum(bool(lost_by(job)) for job in self.normal)} "
            f"({sum(len(lost_by(job)) for job in self.normal)} WorkerLost in all), "
            f"normal run more than once {sum(runs > 1 for runs in normal_runs)}, "
            f"normal never run {sum(runs == 0 for runs in normal_runs)}, "
            f"WorkerLost without a start by that process {len(self.unstarted_losses())}, "
            f"poison starts {[self.starts['pill', n] for n in range(len(self.pills))]}"
        )

    def unstarted_losses(self) -> list[tuple[str, int, int]]:
        """WorkerLost attempts (task, n, pid) the named process never logged a start of: charged, never run."""
        unmatched: list[tuple[str, int, int]] = []
        for task, jobs in (("normal", self.normal), ("pill", self.pills)):
            for n, job in enumerate(jobs):
                charged = Counter((task, n, pid) for pid in lost_by(job))
                unmatched += list((charged - self.starts_by_pid).elements())
        return unmatched


def poison_pill_run(
    producer: jobq.App, start: Callable[..., CliWorker], log: Path, *, normal: int, pills: int, processes: int,
    deadline: float,
) -> PoisonRun:  # fmt: skip
    """``pills`` poison jobs spread among ``normal`` ones, run by a supervised fleet until all are terminal."""
    normal_ids: list[jobq.JobId] = []
    pill_ids: list[jobq.JobId] = []
    per_pill = normal // pills
    for i in range(pills):  # each pill after a run of normal jobs, so every claim batch may hold one
        normal_ids += producer.enqueue_many(
            "poison.normal", [{"n": n} for n in range(i * per_pill, (i + 1) * per_pill)]
        )
        pill_ids.append(producer.enqueue("poison.pill", {"n": i}))
    normal_ids += producer.enqueue_many("poison.normal", [{"n": n} for n in range(pills * per_pill, normal)])
    total = normal + pills

    began = time.monotonic()
    supervisor = start("supervisor", "--processes", str(processes), "--concurrency", str(CONCURRENCY))

    def terminal() -> int:
        counts = producer.stats()["queues"].get("default", {})
        return int(counts.get("succeeded", 0) + counts.get("dead", 0))

    while (in_time := time.monotonic() - began < deadline) and terminal() < total:
        assert supervisor.alive(), f"the supervisor exited early:\n{supervisor.stderr()[-3000:]}"
        time.sleep(0.2)
    seconds = time.monotonic() - began
    assert supervisor.stop() == 0, supervisor.stderr()[-3000:]

    jobs = {job.id: job for job in producer.list_jobs(limit=10 * total)}
    starts = read_starts(log)
    return PoisonRun(
        normal=[jobs[job_id] for job_id in normal_ids if job_id in jobs],
        pills=[jobs[job_id] for job_id in pill_ids if job_id in jobs],
        missing=total - sum(job_id in jobs for job_id in normal_ids + pill_ids),
        starts=Counter((task, n) for task, n, _, _ in starts),
        starts_by_pid=Counter((task, n, pid) for task, n, pid, _ in starts),
        seconds=seconds,
        terminal_in_time=in_time,
    )


def assert_poison_run_accounted_truthfully(run: PoisonRun) -> None:
    """The promise of issue 11: poison jobs die of their own attempts; no innocent job is charged for them."""
    print(f"\npoison-pill run: {run.figures()}")
    assert run.missing == 0, run.figures()
    assert run.terminal_in_time, f"not every job became terminal: {run.figures()}"
    for job in run.pills:
        assert job.status == "dead", job
        assert [(error.error_type, error.attempt) for error in job.errors] == [(LOST, 1), (LOST, 2), (LOST, 3)]
    assert [job.id for job in run.normal if job.status == "dead"] == [], run.figures()
    for n, job in enumerate(run.normal):
        assert job.status == "succeeded", job
        assert {error.error_type for error in job.errors} <= {LOST}, job.errors
        assert job.attempts == len(job.errors) + 1, job  # every attempt charged ended lost or succeeded
        assert run.starts["normal", n] >= 1, f"normal job {n} succeeded without a start"
    # A process can only lose the jobs it had running: at most CONCURRENCY, one of them the poison pill.
    # (A job handed to a runner thread an instant before the crash may not have logged its start yet.)
    losses = Counter(pid for job in run.normal + run.pills for pid in lost_by(job))
    assert max(losses.values(), default=0) <= CONCURRENCY, f"jobs lost per process: {losses}"
    unstarted = Counter(pid for _, _, pid in run.unstarted_losses())
    assert max(unstarted.values(), default=0) <= CONCURRENCY - 1, f"charged, never started: {unstarted}"


def test_poison_pills_die_of_their_own_attempts_and_no_normal_job_is_charged_for_them(
    producer: jobq.App, start: Callable[..., CliWorker], log: Path
) -> None:
    run = poison_pill_run(producer, start, log, normal=1000, pills=10, processes=2, deadline=90)
    assert_poison_run_accounted_truthfully(run)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_poison_pills_among_thousands_with_four_processes_charge_no_normal_job(
    producer: jobq.App, start: Callable[..., CliWorker], log: Path
) -> None:
    run = poison_pill_run(producer, start, log, normal=5000, pills=20, processes=4, deadline=600)
    assert_poison_run_accounted_truthfully(run)


# -- a worker frozen past its lease ---------------------------------------------------------------------------


def test_worker_resumed_after_its_leases_were_taken_over_starts_none_of_those_jobs(
    producer: jobq.App, start: Callable[..., CliWorker], log: Path
) -> None:
    count = 20
    ids = producer.enqueue_many("poison.nap", [{"n": n, "seconds": 0.3} for n in range(count)])
    frozen = start("frozen", "--concurrency", "1")
    frozen.wait_for(lambda: any(pid == frozen.pid for _, _, pid, _ in read_starts(log)), what="a first start")
    frozen.signal(signal.SIGSTOP)  # alive but silent: no heartbeats, so every lease it holds runs out
    held = sum(producer.get_job(job_id).status == "running" for job_id in ids)  # type: ignore[union-attr]
    try:
        successor = start("successor", "--concurrency", "4")
        successor.wait_for(
            lambda: producer.stats()["queues"]["default"]["succeeded"] == count, what="the jobs to be taken over"
        )
    finally:
        resumed_at = time.time()
        frozen.signal(signal.SIGCONT)
    time.sleep(2.0)  # long enough for the resumed worker to start several 0.3 s jobs from its buffer
    assert [worker.stop() for worker in (frozen, successor)] == [0, 0]

    starts = read_starts(log)
    after_resume = sorted(n for _, n, pid, at in starts if pid == frozen.pid and at > resumed_at)
    runs = Counter(n for _, n, _, _ in starts)
    jobs = [producer.get_job(job_id) for job_id in ids]
    attempts = [job.attempts for job in jobs if job is not None]
    print(
        f"\nfrozen worker held {held} jobs (1 started); after SIGCONT it started {len(after_resume)} more; "
        f"starts {sum(runs.values())}, attempts charged {sum(attempts)}"
    )
    assert after_resume == [], f"the resumed worker started jobs whose leases were taken over: {after_resume}"
    for n, job in enumerate(jobs):
        assert job is not None and job.status == "succeeded", job
        # Each start charged once, each charge a start: a frozen start ends as WorkerLost, naming its worker.
        assert runs[n] == job.attempts, f"job {n}: started {runs[n]} times, charged {job.attempts} attempts"
        assert lost_by(job) == [frozen.pid] * (job.attempts - 1), job.errors


# -- the supervisor ---------------------------------------------------------------------------------------


def test_supervisor_replaces_a_killed_worker_process_and_sigterm_stops_them_all(
    producer: jobq.App, start: Callable[..., CliWorker], log: Path
) -> None:
    supervisor = start("supervisor", "--processes", "2", "--concurrency", "2")
    supervisor.wait_for(lambda: len(supervisor.worker_pids()) == 2, what="two worker processes")
    victim, survivor = supervisor.worker_pids()

    os.kill(victim, signal.SIGKILL)
    supervisor.wait_for(lambda: len(supervisor.worker_pids()) == 3, what="a replacement worker process")
    replacement = supervisor.worker_pids()[2]
    restarts = [line for line in supervisor.stderr().splitlines() if "restarting" in line]
    assert len(restarts) == 1, restarts
    assert f"(pid {victim}) was killed by SIGKILL; restarting in 1 s" in restarts[0]

    # Both are idle and race for each job: enqueue one at a time until the replacement has run one.
    for n in range(200):
        producer.enqueue("poison.normal", {"n": n})
        wait_until(lambda n=n: any(s[1] == n for s in read_starts(log)),  # type: ignore[misc]
                   timeout=10, what=f"job {n} to run")  # fmt: skip
        if any(pid == replacement for _, _, pid, _ in read_starts(log)):
            break
    else:
        pytest.fail(f"the replacement {replacement} never ran a job:\n{supervisor.stderr()[-3000:]}")

    assert supervisor.stop() == 0
    wait_until(lambda: not any(map(process_alive, (survivor, replacement))), timeout=5, what="the workers to exit")
    assert len([line for line in supervisor.stderr().splitlines() if "restarting" in line]) == 1


def test_burst_supervisor_replaces_a_worker_process_a_job_killed_and_ends_when_the_queue_is_idle(
    producer: jobq.App, start: Callable[..., CliWorker]
) -> None:
    pill = producer.enqueue("poison.pill", {"n": 0}, max_attempts=1)

    supervisor = start("supervisor", "--processes", "2", "--burst", lease=0.5)
    assert supervisor.wait_exit(30) == 0, supervisor.stderr()[-3000:]

    # One process died of the pill and was replaced; the replacement rescued the pill, and every process
    # that found the queue idle exited 0 and stayed down.
    restarts = [line for line in supervisor.stderr().splitlines() if "restarting" in line]
    assert len(restarts) == 1 and "died with exit code 1; restarting in 1 s" in restarts[0], restarts
    assert len(supervisor.worker_pids()) == 3
    job = producer.get_job(pill)
    assert job is not None and job.status == "dead"
    assert [error.error_type for error in job.errors] == ["jobq.WorkerLost"]
