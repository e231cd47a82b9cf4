"""``jobq worker``: run jobs."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.synchronize import Event as EventType
from types import FrameType
from typing import Any

import click

from jobq.app import App
from jobq.cli.context import Context, load_app
from jobq.worker import STOP_SIGNALS, Worker

SUPERVISE_EVERY = 0.1  # seconds between looks for children that became ready for a signal held back


@click.command()
@click.option(
    "--queues",
    "-q",
    envvar="JOBQ_QUEUES",
    show_envvar=True,
    help="Comma-separated queues, in priority order (default: all).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    envvar="JOBQ_CONCURRENCY",
    show_envvar=True,
    help="Jobs run at once.",
)
@click.option(
    "--burst", is_flag=True, envvar="JOBQ_BURST", show_envvar=True, help="Exit once nothing is due and nothing runs."
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    envvar="JOBQ_GRACE",
    show_envvar=True,
    help="Seconds running jobs get to finish on SIGTERM.",
)
@click.option(
    "--processes",
    "-p",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    envvar="JOBQ_PROCESSES",
    show_envvar=True,
    help="Worker processes to run, each with --concurrency jobs at once.",
)
@click.pass_obj
def worker(ctx: Context, queues: str | None, concurrency: int, burst: bool, grace: float, processes: int) -> None:
    """Run a worker for the tasks of --app."""  # fmt: skip
    if not ctx.app_path:
        raise click.UsageError("jobq worker needs --app module:attribute (or JOBQ_APP) to find your tasks")
    names = [name.strip() for name in queues.split(",") if name.strip()] if queues else None
    options: dict[str, Any] = {"concurrency": concurrency, "queues": names, "burst": burst, "grace": grace}
    if processes == 1:
        _work(ctx.app(create=True), options)
        return
    ctx.app(create=True).migrate()  # once, before the children race to do it
    sys.exit(_run_processes(ctx.app_path, ctx.url, processes, options))


def _work(app: App, options: dict[str, Any], *, running: Callable[[], None] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    worker = Worker(app, **options)
    if running is not None:

        def tell_when_running() -> None:  # the supervisor signals us once our handlers are in place
            worker.running.wait()
            running()

        threading.Thread(target=tell_when_running, name="jobq-ready", daemon=True).start()
    summary = worker.run()
    click.echo(
        f"{summary.succeeded} succeeded, {summary.retried} retried, {summary.dead} dead, "
        f"{summary.released} released", err=True,
    )  # fmt: skip


def _run_processes(app_path: str, url: str | None, count: int, options: dict[str, Any]) -> int:
    """Start ``count`` worker processes and pass them our signals; exits with the worst child's code.

    A signal reaches a child only once its worker has installed its handlers (the spawned interpreter takes
    a while to start): one that comes earlier waits, instead of killing a half-started child.
    """
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each: no inherited threads or sockets
    ready = [spawn.Event() for _ in range(count)]
    children = [
        spawn.Process(target=_child, args=(app_path, url, options, ready[number]), name=f"jobq-worker-{number + 1}")
        for number in range(count)
    ]
    received: list[int] = []
    sent = [0] * count

    def deliver() -> None:
        for number, child in enumerate(children):  # first signal: graceful stop; second: at once
            while sent[number] < len(received) and ready[number].is_set() and child.pid and child.is_alive():
                os.kill(child.pid, received[sent[number]])
                sent[number] += 1

    def forward(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        deliver()

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        for child in children:
            child.start()
        while alive := [child.sentinel for child in children if child.is_alive()]:
            wait(alive, timeout=SUPERVISE_EVERY)
            deliver()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return max(abs(child.exitcode or 0) for child in children)


def _child(app_path: str, url: str | None, options: dict[str, Any], ready: EventType) -> None:
    # Its own process group: a terminal's Ctrl-C reaches the parent only, which passes it on once.
    os.setpgrp()
    _work(load_app(app_path, url), options, running=ready.set)
