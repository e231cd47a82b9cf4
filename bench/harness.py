"""What every workload shares: sizes, the error that voids a run, statistics, and worker subprocesses."""

from __future__ import annotations

import json
import math
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

import jobq

HERE = Path(__file__).resolve().parent
WORKER_SCRIPT = HERE / "bench_worker.py"


@dataclass(frozen=True)
class Sizes:
    """How much work each workload does."""

    baseline: int = 5_000
    baseline_set: int = 50_000
    set_batch: int = 100
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
    baseline=500, baseline_set=2_000, enqueue_full=500, enqueue_normal=1_000, batched=5_000, drain=2_000,
    failing=200, wake_samples=10, replay=300, big_dlq=5_000, calls=5,
)  # fmt: skip


class BenchError(Exception):
    """A workload did not do what it should (wrong counts, a worker that died): the figures are void."""


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


def fill(app: jobq.App, task: str, n: int) -> None:
    """Enqueue ``n`` calls of ``task`` in batches of 1,000."""
    for start in range(0, n, 1_000):
        app.tasks[task].enqueue_many([{"i": i} for i in range(start, min(n, start + 1_000))])


class WorkerProcess:
    """``bench_worker.py`` in a subprocess; its stdout is read line by line in a thread.

    With ``hold``, the worker opens its database, prints READY and waits for ``go()`` before it starts
    working, so that several workers start together and start-up is not measured.
    """

    def __init__(self, url: str, directory: Path, *, burst: bool, concurrency: int = 4, hold: bool = False) -> None:
        command = [sys.executable, str(WORKER_SCRIPT), url, "--concurrency", str(concurrency)]
        if burst:
            command.append("--burst")
        if hold:
            command.append("--hold")
        self.log_path = directory / f"worker-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("w")
        self.lines: SimpleQueue[str | None] = SimpleQueue()
        self.result: dict[str, Any] | None = None
        self.spawned = time.perf_counter()
        stdin = subprocess.PIPE if hold else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            command, stdin=stdin, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=HERE
        )
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

    def go(self) -> None:
        """Let a held worker start working."""
        assert self.proc.stdin is not None
        self.proc.stdin.write("GO\n")
        self.proc.stdin.close()

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

    def kill(self) -> None:
        """End a worker this script started, whatever state it is in (after a failed workload)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-15:])
