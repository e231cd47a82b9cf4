"""The app the scale tests run in worker processes: ``python -m scale_app --concurrency N``.

Configured by the environment: ``JOBQ_URL`` (the database), ``SCALE_LEASE`` (seconds) and ``SCALE_LOG``: every
run of ``scale.record`` appends ``start <n> <pid>`` to that file when it begins and ``end <n> <pid>`` when it
is done, each line with one ``write()`` on an ``O_APPEND`` descriptor, so lines from many threads and
processes never interleave.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

import jobq

app = jobq.App(os.environ.get("JOBQ_URL"), lease=float(os.environ.get("SCALE_LEASE", "30")))

_log_fd: int | None = None
_log_lock = threading.Lock()


def _log() -> int:
    global _log_fd
    with _log_lock:
        if _log_fd is None:
            _log_fd = os.open(os.environ["SCALE_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        return _log_fd


def _trace(event: str, n: int) -> None:
    os.write(_log(), f"{event} {n} {os.getpid()}\n".encode())


@app.task(name="scale.record", max_attempts=20, backoff=jobq.Fixed(0.0))
def record(n: int, pause: float = 0.0) -> None:
    """Leave ``start``, optionally take ``pause`` seconds, leave ``end``."""
    _trace("start", n)
    if pause:
        time.sleep(pause)
    _trace("end", n)


def main() -> None:
    """Run a worker of ``app`` until SIGTERM/SIGINT, logging to stderr."""
    parser = argparse.ArgumentParser(prog="scale_app")
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    summary = app.run_worker(concurrency=options.concurrency, grace=10.0)
    logging.getLogger("scale_app").info("exiting: %s", summary)


if __name__ == "__main__":
    main()
