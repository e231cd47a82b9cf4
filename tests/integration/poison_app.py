"""The app the crash-accounting tests run under ``jobq --app poison_app:app worker``.

Configured by the environment: ``JOBQ_URL`` (the database), ``POISON_LEASE`` (seconds, short so that lost
leases are rescued quickly) and ``POISON_LOG`` (a file every handler appends ``<task> <n> <pid> <unix time>``
to when it starts, with ``O_APPEND`` so that lines from several processes never interleave).
"""

from __future__ import annotations

import os
import time

import jobq

app = jobq.App(os.environ.get("JOBQ_URL"), lease=float(os.environ.get("POISON_LEASE", "1.0")))


def _started(task: str, n: int) -> None:
    line = f"{task} {n} {os.getpid()} {time.time():.6f}\n"
    fd = os.open(os.environ["POISON_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.task(name="poison.normal", max_attempts=3)  # the default backoff, jitter and all
def normal(n: int) -> None:
    """An innocent job: leave a line, do nothing."""
    _started("normal", n)


@app.task(name="poison.pill", max_attempts=3)
def pill(n: int) -> None:
    """A poison pill: leave a line, then end the whole worker process at once, as a segfault or OOM would."""
    _started("pill", n)
    os._exit(1)


@app.task(name="poison.nap", max_attempts=3, backoff=jobq.Fixed(0.0))
def nap(n: int, seconds: float) -> None:
    """A slow job: leave a line, sleep."""
    _started("nap", n)
    time.sleep(seconds)
