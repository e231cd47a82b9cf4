"""jobq benchmark (SQLite): jobs/second for enqueue, drain, the failure path, replay, and DLQ look-ups.

    .venv/bin/python bench/run.py [--rounds 3] [--quick] [--only NAME ...] [--dir DIR]

Every workload runs ``--rounds`` times, each time on a fresh SQLite file in a temporary directory; the
table shows the median of the rounds (and the spread). A plain-sqlite3 baseline runs in the same script,
so figures can be read as ratios (``x base``) even when the machine is noisy. This is a benchmark, not a
test: it prints numbers and marks missed targets, and exits 1 only when a workload gives a wrong result.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

import bench_tasks
from bench_tasks import FAIL, NOOP, REPORT, STAMP, make_app

import jobq
from jobq.job import DeadLetterId, JobId, new_id

HERE = Path(__file__).resolve().parent
WORKER_SCRIPT = HERE / "bench_worker.py"


@dataclass(frozen=True)
class Sizes:
    """How much work each workload does."""

    baseline: int = 5_000
    enqueue_full: int = 5_000
    enqueue_normal: int = 20_000
    batched: int = 100_000
    batch: int = 1_000
    drain: int = 20_000
    failing: int = 2_000
    wake_samples: int = 50
    replay: int = 5_000
    big_dlq: int = 100_000
    calls: int = 20


QUICK = Sizes(
    baseline=500, enqueue_full=500, enqueue_normal=1_000, batched=5_000, drain=2_000, failing=200,
    wake_samples=10, replay=300, big_dlq=5_000, calls=5,
)  # fmt: skip


class BenchError(Exception):
    """A workload did not do what it should (wrong counts, a worker that died): the figures are void."""


# -- helpers --------------------------------------------------------------------------------------


def sqlite_url(directory: Path, name: str = "jobq.db") -> str:
    return f"sqlite:///{directory / name}"


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def median_ms(call: Callable[[], Any], times: int) -> float:
    """Median wall time of ``call`` in milliseconds (after one warm-up call)."""
    call()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def peak_rss_mib(result: dict[str, Any]) -> float:
    """The worker's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec, so a child's
    ru_maxrss starts at its parent's (this script's) peak, which would be measured instead."""
    rss = result["rss_kib"]
    return float(rss.get("vmhwm", rss["ru_maxrss"])) / 1024


def queue_counts(app: jobq.App) -> dict[str, int]:
    return app.backend.job_counts(now=time.time()).get("default", {})


class WorkerProcess:
    """``bench_worker.py`` in a subprocess; its stdout is read line by line in a thread."""

    def __init__(self, url: str, directory: Path, *, burst: bool, concurrency: int = 4) -> None:
        command = [sys.executable, str(WORKER_SCRIPT), url, "--concurrency", str(concurrency)]
        if burst:
            command.append("--burst")
        self.log_path = directory / f"worker-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        self.lines: SimpleQueue[str | None] = SimpleQueue()
        self.result: dict[str, Any] | None = None
        self.spawned = time.perf_counter()
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=HERE)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("RESULT "):
                self.result = json.loads(line[len("RESULT ") :])
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def expect(self, prefix: str, timeout: float = 30.0) -> str:
        """The next stdout line starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except Empty:
                raise BenchError(f"worker printed no {prefix!r} within {timeout} s; see {self.log_path}") from None
            if line is None:
                raise BenchError(f"worker exited early (code {self.proc.wait()}): {self.log_tail()}")
            if line.startswith(prefix):
                return line

    def finish(self, timeout: float = 600.0) -> dict[str, Any]:
        """Wait for exit; the worker's RESULT."""
        code = self.proc.wait(timeout=timeout)
        self._reader.join()
        self._log.close()
        if code != 0 or self.result is None:
            raise BenchError(f"worker exited with code {code}: {self.log_tail()}")
        return self.result

    def terminate(self) -> dict[str, Any]:
        self.proc.send_signal(signal.SIGTERM)
        return self.finish(timeout=60.0)

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-15:])


# -- 1. baseline: plain sqlite3 ---------------------------------------------------------------------

BASELINE_SCHEMA = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, task TEXT NOT NULL, queue TEXT NOT NULL, status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    token INTEGER NOT NULL DEFAULT 0, run_at REAL NOT NULL, created_at REAL NOT NULL,
    locked_until REAL, finished_at REAL
) STRICT;
CREATE INDEX jobs_due ON jobs (priority DESC, run_at, id) WHERE status = 'queued';
"""
BASELINE_INSERT = (
    "INSERT INTO jobs (id, task, queue, status, payload, run_at, created_at)"
    " VALUES (?, ?, 'default', 'queued', ?, ?, ?)"
)
BASELINE_CLAIM = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, token = token + 1, locked_until = :until
 WHERE id = (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= :now
             ORDER BY priority DESC, run_at, id LIMIT 1)
RETURNING id, token, task, payload
"""
BASELINE_COMPLETE = (
    "UPDATE jobs SET status = 'succeeded', finished_at = ?, locked_until = NULL"
    " WHERE id = ? AND token = ? AND status = 'running'"
)


def baseline(directory: Path, synchronous: str, n: int) -> dict[str, float]:
    """Plain sqlite3 in WAL: n single-INSERT transactions, then n claim+complete transactions."""
    conn = sqlite3.connect(directory / f"baseline-{synchronous.lower()}.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.executescript(BASELINE_SCHEMA)
    started = time.perf_counter()
    for i in range(n):
        now = time.time()
        conn.execute(BASELINE_INSERT, (f"{i:026d}", NOOP, json.dumps({"args": [], "kwargs": {"i": i}}), now, now))
    enqueue_seconds = time.perf_counter() - started
    done = 0
    started = time.perf_counter()
    while True:
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(BASELINE_CLAIM, {"until": now + 30, "now": now}).fetchone()
        if row is None:
            conn.execute("COMMIT")
            break
        json.loads(row[3])
        conn.execute(BASELINE_COMPLETE, (time.time(), row[0], row[1]))
        conn.execute("COMMIT")
        done += 1
    claim_seconds = time.perf_counter() - started
    conn.close()
    if done != n:
        raise BenchError(f"baseline claimed {done} of {n} jobs")
    key = synchronous.lower()
    return {f"base_enqueue_{key}": n / enqueue_seconds, f"base_claim_{key}": n / claim_seconds}


def bench_baseline(directory: Path, sizes: Sizes) -> dict[str, float]:
    return {**baseline(directory, "FULL", sizes.baseline), **baseline(directory, "NORMAL", sizes.baseline)}


# -- 2. enqueue -------------------------------------------------------------------------------------


def enqueue_one_by_one(directory: Path, durability: str, n: int) -> float:
    app = make_app(sqlite_url(directory, f"enqueue-{durability}.db"), durability=durability)
    app.migrate()
    noop = app.tasks[NOOP]
    started = time.perf_counter()
    for i in range(n):
        noop.enqueue(i=i)
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if queued != n:
        raise BenchError(f"enqueued {n} jobs one by one ({durability}) but {queued} are queued")
    return n / seconds


def enqueue_batched(directory: Path, total: int, batch: int) -> float:
    app = make_app(sqlite_url(directory, "enqueue-batched.db"))
    app.migrate()
    noop = app.tasks[NOOP]
    batches = [[{"i": i} for i in range(start, min(total, start + batch))] for start in range(0, total, batch)]
    started = time.perf_counter()
    for calls in batches:
        noop.enqueue_many(calls)
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if queued != total:
        raise BenchError(f"enqueued {total} jobs in batches but {queued} are queued")
    return total / seconds


def bench_enqueue(directory: Path, sizes: Sizes) -> dict[str, float]:
    return {
        "enqueue_full": enqueue_one_by_one(directory, "full", sizes.enqueue_full),
        "enqueue_normal": enqueue_one_by_one(directory, "normal", sizes.enqueue_normal),
        "enqueue_batched": enqueue_batched(directory, sizes.batched, sizes.batch),
    }


# -- 3. end-to-end drain, and 4. the failure path -------------------------------------------------------


def fill(app: jobq.App, task: str, n: int) -> None:
    for start in range(0, n, 1_000):
        app.tasks[task].enqueue_many([{"i": i} for i in range(start, min(n, start + 1_000))])


def bench_drain(directory: Path, sizes: Sizes) -> dict[str, float]:
    """One worker process, concurrency 4, burst: seconds in run_worker until all succeeded."""
    url = sqlite_url(directory, "drain.db")
    app = make_app(url)
    fill(app, NOOP, sizes.drain)
    worker = WorkerProcess(url, directory, burst=True)
    result = worker.finish()
    wall = time.perf_counter() - worker.spawned
    counts = queue_counts(app)
    app.close()
    if result["succeeded"] != sizes.drain or counts.get("succeeded") != sizes.drain:
        raise BenchError(f"drain: worker reports {result}, database {counts}; expected {sizes.drain} succeeded")
    return {
        "drain": sizes.drain / result["seconds"],
        "drain_wall": sizes.drain / wall,
        "drain_rss": peak_rss_mib(result),
    }


def bench_failure(directory: Path, sizes: Sizes) -> dict[str, float]:
    """Always-failing jobs, 3 attempts, no backoff: every attempt is a recorded failure, a third go to the DLQ."""
    url = sqlite_url(directory, "failure.db")
    app = make_app(url)
    fill(app, FAIL, sizes.failing)
    worker = WorkerProcess(url, directory, burst=True)
    result = worker.finish()
    attempts = result["retried"] + result["dead"]
    letters = app.dlq.count()
    counts = queue_counts(app)
    app.close()
    if (result["dead"], letters, counts.get("dead"), attempts) != (sizes.failing,) * 3 + (3 * sizes.failing,):
        raise BenchError(f"failure path: worker {result}, {letters} dead letters, jobs {counts}")
    return {"failure": attempts / result["seconds"], "failure_rss": peak_rss_mib(result)}


# -- 5. wake-up latency -------------------------------------------------------------------------------


def idle_pause() -> None:
    """Let the worker go idle (flush, poll) before the next job, at a random phase of its poll."""
    time.sleep(random.uniform(0.01, 0.03))


def wake_same_process(directory: Path, samples: int) -> list[float]:
    """A worker thread (non-burst) beside the producer: handler start - enqueue, perf_counter, ms."""
    app = make_app(sqlite_url(directory, "wake-same.db"))
    app.migrate()
    worker = jobq.Worker(app, concurrency=4, burst=False)
    thread = threading.Thread(target=worker.run, kwargs={"install_signal_handlers": False}, daemon=True)
    thread.start()
    stamp = app.tasks[STAMP]
    latencies = []
    try:
        for index in range(samples + 3):  # three warm-ups
            idle_pause()
            sent = time.perf_counter()
            stamp.enqueue()
            try:
                begun = bench_tasks.started.get(timeout=10)
            except Empty:
                raise BenchError("same-process worker did not start a job within 10 s") from None
            if index >= 3:
                latencies.append((begun - sent) * 1000)
    finally:
        worker.stop()
        thread.join(timeout=30)
        app.close()
    return latencies


def wake_other_process(directory: Path, samples: int) -> list[float]:
    """A worker in another process (non-burst): handler start - enqueue, both time.time(), ms."""
    url = sqlite_url(directory, "wake-other.db")
    app = make_app(url)
    app.migrate()
    worker = WorkerProcess(url, directory, burst=False)
    report = app.tasks[REPORT]
    latencies = []
    try:
        worker.expect("READY")
        for index in range(samples + 3):
            idle_pause()
            report.enqueue(sent_at=time.time())
            latency = float(worker.expect("LATENCY ", timeout=10).split()[1])
            if index >= 3:
                latencies.append(latency * 1000)
    finally:
        if worker.proc.poll() is None:
            worker.terminate()
        app.close()
    return latencies


def bench_wake(directory: Path, sizes: Sizes) -> dict[str, float]:
    same = wake_same_process(directory, sizes.wake_samples)
    other = wake_other_process(directory, sizes.wake_samples)
    return {
        "wake_same_median": statistics.median(same),
        "wake_same_p95": p95(same),
        "wake_other_median": statistics.median(other),
        "wake_other_p95": p95(other),
    }


# -- 6. replay and DLQ look-ups -------------------------------------------------------------------------

TENANTS = [f"tenant-{n}" for n in range(50)]
TASKS = [f"bench.task{n}" for n in range(10)]
CLASSES: list[jobq.ErrorClass] = ["recoverable", "user_error", "system_error", "unknown"]
ERRORS = [
    ("httpx.ReadTimeout", "timed out reading from provider for message {i}"),
    ("bench.ProviderError", "provider answered 429 Too Many Requests for message {i}"),
    ("bench.ProviderError", "provider answered 400: invalid number +8210{i:08d}"),
    ("RuntimeError", "chart renderer crashed on scene {i}"),
    ("KeyError", "'site-{i}'"),
]
TRACEBACK = 'Traceback (most recent call last):\n  File "app/tasks.py", line 42, in send\n    provider.send(to, body)\n'


def make_letters(count: int, *, task: str | None = None) -> list[jobq.DeadLetter]:
    """Realistic dead letters: 3 attempts of history, spread over 50 tenants, 10 tasks, 200 fingerprints."""
    now = time.time()
    letters = []
    for i in range(count):
        error_type, template = ERRORS[i % len(ERRORS)]
        message = template.format(i=i)
        failed_at = datetime.fromtimestamp(now - random.uniform(0, 30 * 86400), UTC)
        history = tuple(
            jobq.AttemptError(n, failed_at, error_type, message, f"{TRACEBACK}{error_type}: {message}\n", "w:1", 0.01)
            for n in (1, 2, 3)
        )
        letters.append(
            jobq.DeadLetter(
                id=DeadLetterId(new_id()),
                job_id=JobId(new_id()),
                task=task or TASKS[i % len(TASKS)],
                queue="default",
                payload={"args": [], "kwargs": {"i": i}},
                attempts=3,
                max_attempts=3,
                error_type=error_type,
                error_message=message,
                error_traceback=history[-1].traceback,
                error_class=CLASSES[i % len(CLASSES)],
                fingerprint=f"{i % 200:016x}",
                failed_at=failed_at,
                tenant=TENANTS[i % len(TENANTS)],
                key=f"key-{i}",
                errors=history,
            )
        )
    return letters


def bench_replay(directory: Path, sizes: Sizes) -> dict[str, float]:
    app = make_app(sqlite_url(directory, "replay.db"))
    app.migrate()
    app.backend.insert_dead(make_letters(sizes.replay, task=NOOP))
    started = time.perf_counter()
    report = app.dlq.replay_many()
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if report.replayed != sizes.replay or queued != sizes.replay:
        raise BenchError(f"replay_many replayed {report.replayed} of {sizes.replay}; {queued} jobs queued")
    return {"replay": sizes.replay / seconds}


def bench_dlq_lookups(directory: Path, sizes: Sizes) -> dict[str, float]:
    app = make_app(sqlite_url(directory, "big-dlq.db"))
    app.migrate()
    build_seconds = 0.0
    for start in range(0, sizes.big_dlq, 10_000):
        letters = make_letters(min(10_000, sizes.big_dlq - start))
        started = time.perf_counter()
        app.backend.insert_dead(letters)
        build_seconds += time.perf_counter() - started
    if (stored := app.dlq.count()) != sizes.big_dlq:
        raise BenchError(f"built a DLQ of {stored} letters, wanted {sizes.big_dlq}")
    dlq = app.dlq
    figures = {
        "dlq_insert": sizes.big_dlq / build_seconds,
        "dlq_list": median_ms(lambda: dlq.list(limit=50), sizes.calls),
        "dlq_list_tenant": median_ms(lambda: dlq.list(limit=50, tenant="tenant-7"), sizes.calls),
        "dlq_list_task_class": median_ms(
            lambda: dlq.list(limit=50, task="bench.task3", error_class="user_error"), sizes.calls
        ),
        "dlq_list_search": median_ms(lambda: dlq.list(limit=50, search="Too Many"), sizes.calls),
        "dlq_groups": median_ms(lambda: dlq.groups(), sizes.calls),
        "dlq_count": median_ms(lambda: dlq.count(error_class="unknown"), sizes.calls),
    }
    app.close()
    return figures


# -- the table ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    unit: str
    target: tuple[str, float] | None = None  # (">=" or "<=", value)
    base: str | None = None  # the baseline figure this one is divided by

    def verdict(self, value: float) -> str:
        if self.target is None:
            return ""
        op, limit = self.target
        return "ok" if (value >= limit if op == ">=" else value <= limit) else "MISS"


ROWS = [
    Row("base_enqueue_full", "baseline sqlite3: INSERT per txn, FULL", "jobs/s"),
    Row("base_enqueue_normal", "baseline sqlite3: INSERT per txn, NORMAL", "jobs/s"),
    Row("base_claim_full", "baseline sqlite3: claim+complete per txn, FULL", "jobs/s"),
    Row("base_claim_normal", "baseline sqlite3: claim+complete per txn, NORMAL", "jobs/s"),
    Row("enqueue_full", "enqueue one by one, durability=full", "jobs/s", (">=", 6_000), "base_enqueue_full"),
    Row("enqueue_normal", "enqueue one by one, durability=normal", "jobs/s", (">=", 20_000), "base_enqueue_normal"),
    Row("enqueue_batched", "enqueue_many, batches of 1,000 (full)", "jobs/s", (">=", 150_000), "base_enqueue_full"),
    Row("drain", "drain, 1 worker process, concurrency 4", "jobs/s", (">=", 8_000), "base_claim_full"),
    Row("drain_wall", "  same, incl. process start-up", "jobs/s"),
    Row("drain_rss", "  worker peak RSS (drain)", "MiB", ("<=", 100)),
    Row("failure", "failure path: attempts to retry/DLQ", "att/s", (">=", 1_500), "base_claim_full"),
    Row("failure_rss", "  worker peak RSS (failure path)", "MiB", ("<=", 100)),
    Row("wake_same_median", "wake-up, same process, median", "ms", ("<=", 2)),
    Row("wake_same_p95", "wake-up, same process, p95", "ms"),
    Row("wake_other_median", "wake-up, other process, median", "ms", ("<=", 20)),
    Row("wake_other_p95", "wake-up, other process, p95", "ms"),
    Row("replay", "dlq.replay_many() of 5,000 letters", "jobs/s", None, "base_enqueue_full"),
    Row("dlq_insert", "building the big DLQ: backend.insert_dead", "letters/s"),
    Row("dlq_list", "big DLQ: list(limit=50)", "ms/call"),
    Row("dlq_list_tenant", "big DLQ: list(limit=50, tenant=...)", "ms/call"),
    Row("dlq_list_task_class", "big DLQ: list(limit=50, task=, error_class=)", "ms/call"),
    Row("dlq_list_search", "big DLQ: list(limit=50, search=text)", "ms/call"),
    Row("dlq_groups", "big DLQ: groups() by fingerprint", "ms/call"),
    Row("dlq_count", "big DLQ: count(error_class=)", "ms/call"),
]


def number(value: float) -> str:
    if value >= 1_000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(results: dict[str, list[float]], sizes: Sizes, rounds: int) -> str:
    header = ("workload", "median", "unit", "min-max", "target", "", "x base")
    lines = []
    medians = {key: statistics.median(values) for key, values in results.items() if values}
    for row in ROWS:
        if row.key not in medians:
            continue
        value = medians[row.key]
        values = results[row.key]
        spread = f"{number(min(values))}-{number(max(values))}" if len(values) > 1 else ""
        target = f"{row.target[0]} {number(row.target[1])}" if row.target else ""
        ratio = f"{value / medians[row.base]:.2f}" if row.base and medians.get(row.base) else ""
        label = row.label.replace("5,000", f"{sizes.replay:,}")
        lines.append((label, number(value), row.unit, spread, target, row.verdict(value), ratio))
    widths = [max(len(str(cells[i])) for cells in [header, *lines]) for i in range(len(header))]
    aligns = ["<", ">", "<", ">", ">", "<", ">"]
    out = [f"jobq benchmark, SQLite, median of {rounds} round(s); {sys.platform}, {os.cpu_count()} CPUs, "
           f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}"]  # fmt: skip
    for cells in [header, *lines]:
        columns = zip(cells, aligns, widths, strict=True)
        out.append("  ".join(f"{cell:{align}{width}}" for cell, align, width in columns).rstrip())
        if cells is header:
            out.append("  ".join("-" * width for width in widths))
    out.append(f"sizes: {sizes}")
    return "\n".join(out)


# -- main ---------------------------------------------------------------------------------------------

WORKLOADS: dict[str, Callable[[Path, Sizes], dict[str, float]]] = {
    "baseline": bench_baseline,
    "enqueue": bench_enqueue,
    "drain": bench_drain,
    "failure": bench_failure,
    "wake": bench_wake,
    "replay": bench_replay,
    "dlq": bench_dlq_lookups,
}


@dataclass
class Run:
    rounds: int
    sizes: Sizes
    only: list[str]
    directory: Path | None
    results: dict[str, list[float]] = field(default_factory=dict)

    def round(self, index: int) -> None:
        for name in self.only:
            with tempfile.TemporaryDirectory(prefix=f"jobq-bench-{name}-", dir=self.directory) as tmp:
                started = time.perf_counter()
                figures = WORKLOADS[name](Path(tmp), self.sizes)
                shown = ", ".join(f"{key}={number(value)}" for key, value in figures.items())
                print(f"round {index} {name} ({time.perf_counter() - started:.1f} s): {shown}", file=sys.stderr)
                for key, value in figures.items():
                    self.results.setdefault(key, []).append(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per workload (default 3); medians are shown")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check that the script works")
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS), help="workloads to run")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary databases go (default: $TMPDIR)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    run = Run(args.rounds, QUICK if args.quick else Sizes(), args.only, args.dir)
    try:
        for index in range(1, args.rounds + 1):
            run.round(index)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(table(run.results, run.sizes, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
