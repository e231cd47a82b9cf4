"""``jobq worker``: run jobs."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
from types import FrameType
from typing import Any

import click

from jobq.app import App
from jobq.cli.context import Context, load_app


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


def _work(app: App, options: dict[str, Any]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    summary = app.run_worker(**options)
    click.echo(
        f"{summary.succeeded} succeeded, {summary.retried} retried, {summary.dead} dead, "
        f"{summary.released} released", err=True,
    )  # fmt: skip


def _run_processes(app_path: str, url: str | None, count: int, options: dict[str, Any]) -> int:
    """Start ``count`` worker processes and pass them our signals; exits with the worst child's code."""
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each: no inherited threads or sockets
    children = [
        spawn.Process(target=_child, args=(app_path, url, options), name=f"jobq-worker-{number}")
        for number in range(1, count + 1)
    ]
    for child in children:
        child.start()

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:  # first signal: graceful stop; second: at once, as for a single worker
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signum)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        for child in children:
            child.join()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return max(abs(child.exitcode or 0) for child in children)


def _child(app_path: str, url: str | None, options: dict[str, Any]) -> None:
    # Its own process group: a terminal's Ctrl-C reaches the parent only, which passes it on once.
    os.setpgrp()
    _work(load_app(app_path, url), options)
