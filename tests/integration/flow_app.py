"""The app the flow-control tests run in worker processes: ``python -m flow_app [--queues Q,...]``.

Configured by the environment: ``JOBQ_URL`` (the database), ``FLOW_LOG`` (a file every task appends one line to,
with ``O_APPEND`` so lines from several processes never interleave) and ``FLOW_PERIODIC`` (set: the app has a
schedule ticking every second).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from datetime import timedelta

import jobq

app = jobq.App(os.environ.get("JOBQ_URL"), lease=30.0)


def _trace(*fields: object) -> None:
    line = " ".join(str(field) for field in fields) + "\n"
    fd = os.open(os.environ["FLOW_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


@app.task(name="flow.tick", max_attempts=1)
def tick(label: str) -> None:
    """A periodic job: leave ``tick <label> <pid>``."""
    _trace("tick", label, os.getpid())


if os.environ.get("FLOW_PERIODIC"):
    app.periodic(timedelta(seconds=1), kwargs={"label": "every-second"})(tick)


@app.task(name="flow.wait_async", max_attempts=3)
async def wait_async(n: int) -> None:
    """Await a long time in small steps; leave ``start``, then ``cancelled`` (at an await) or ``end``."""
    _trace("start", n, os.getpid())
    try:
        for _ in range(600):
            await asyncio.sleep(0.1)
    except asyncio.CancelledError:
        _trace("cancelled", n, f"{time.time():.6f}")
        raise
    _trace("end", n)


@app.task(name="flow.wait_polling", max_attempts=3)
def wait_polling(n: int) -> None:
    """Work in small steps, polling ``jobq.current_job().cancelled`` between them; leave ``stopped`` or ``end``."""
    _trace("start", n, os.getpid())
    for _ in range(600):
        if jobq.current_job().cancelled:
            _trace("stopped", n, f"{time.time():.6f}")
            return
        time.sleep(0.1)
    _trace("end", n)


@app.task(name="flow.note", queue="held", max_attempts=1)
def note(n: int) -> None:
    """Leave ``note <n> <unix time>``."""
    _trace("note", n, f"{time.time():.6f}")


def main() -> None:
    """Run a worker of ``app`` until SIGTERM/SIGINT, logging to stderr."""
    parser = argparse.ArgumentParser(prog="flow_app")
    parser.add_argument("--concurrency", type=int, default=4)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    summary = app.run_worker(concurrency=options.concurrency, grace=5.0)
    logging.getLogger("flow_app").info("exiting: %s", summary)


if __name__ == "__main__":
    main()
