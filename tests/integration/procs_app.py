"""The app the multi-process tests run in worker processes: ``python -m procs_app [--concurrency N] ...``.

Configured by the environment: ``JOBQ_URL`` (the database), ``PROCS_LEASE`` (seconds), ``PROCS_LOG`` (a file
every task appends one line to, with ``O_APPEND`` so lines from several processes never interleave) and
``PROCS_NO_NAP`` (set in a worker that should finish ``procs.nap`` at once, e.g. the one that rescues a job).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import time

import jobq

app = jobq.App(os.environ.get("JOBQ_URL"), lease=float(os.environ.get("PROCS_LEASE", "30")))


def _trace(*fields: object) -> None:
    line = " ".join(str(field) for field in fields) + "\n"
    fd = os.open(os.environ["PROCS_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.task(name="procs.record", max_attempts=1)
def record(n: int) -> None:
    """Leave ``done <n> <pid> <unix time>``."""
    _trace("done", n, os.getpid(), f"{time.time():.6f}")


@app.task(name="procs.nap", max_attempts=3, backoff=jobq.Fixed(0.0))
def nap(n: int, seconds: float) -> None:
    """Leave ``start``, sleep (unless PROCS_NO_NAP), leave ``end``."""
    _trace("start", n, os.getpid())
    if not os.environ.get("PROCS_NO_NAP"):
        time.sleep(seconds)
    _trace("end", n, os.getpid())


@app.task(name="procs.crash", max_attempts=2, backoff=jobq.Fixed(0.0))
def crash(n: int) -> None:
    """Kill the whole worker process, every time."""
    _trace("start", n, os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    """Run a worker of ``app`` until SIGTERM/SIGINT, logging to stderr."""
    parser = argparse.ArgumentParser(prog="procs_app")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--grace", type=float, default=10.0)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    summary = app.run_worker(concurrency=options.concurrency, grace=options.grace)
    logging.getLogger("procs_app").info("exiting: %s", summary)


if __name__ == "__main__":
    main()
