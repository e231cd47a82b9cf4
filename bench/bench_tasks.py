"""The tasks the benchmark runs, registered the same way in the producer and in worker subprocesses."""

from __future__ import annotations

import queue
import sys
import threading
import time

import jobq

NOOP = "bench.noop"
FAIL = "bench.fail"
STAMP = "bench.stamp"
REPORT = "bench.report"

# Same-process wake-up: the handler puts its start time (perf_counter) here.
started: queue.SimpleQueue[float] = queue.SimpleQueue()
_stdout_lock = threading.Lock()


def make_app(url: str, *, durability: str = "full") -> jobq.App:
    """An app with the four benchmark tasks."""
    app = jobq.App(url, durability=durability)  # type: ignore[arg-type]

    @app.task(name=NOOP)
    def noop(i: int = 0) -> None:
        """Does nothing: measures the queue, not the work."""

    @app.task(name=FAIL, max_attempts=3, backoff=jobq.Fixed(0))
    def fail(i: int = 0) -> None:
        """Always fails (class ``unknown``: retried, then dead-lettered)."""
        raise RuntimeError(f"bench failure of job {i}")

    @app.task(name=STAMP)
    def stamp() -> None:
        """Records when it started, for a producer in this process."""
        started.put(time.perf_counter())

    @app.task(name=REPORT)
    def report(sent_at: float) -> None:
        """Prints how long after ``sent_at`` (the producer's time.time()) it started, for another process."""
        latency = time.time() - sent_at
        with _stdout_lock:
            sys.stdout.write(f"LATENCY {latency!r}\n")
            sys.stdout.flush()

    return app
