"""``jobq worker``: run jobs."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType
from typing import Any

import click

from jobq.app import App
from jobq.cli.context import Context, load_app
from jobq.worker import STOP_SIGNALS, Worker

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
SUPERVISE_EVERY = 0.1  # seconds between looks for children that became ready for a signal held back
RESTART_DELAY = 1.0  # seconds before a worker process that died is replaced, at least: a crash loop never spins
RESTART_DELAY_CAP = 30.0  # the longest wait, reached by processes that die again and again before they run

log = logging.getLogger("jobq.supervisor")


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
@click.option(
    "--log-level",
    type=click.Choice(LOG_LEVELS, case_sensitive=False),
    default="info",
    show_default=True,
    envvar="JOBQ_LOG_LEVEL",
    show_envvar=True,
    help="Least severe log line shown (a dead letter logs a warning: error silences them).",
)
@click.pass_obj
def worker(
    ctx: Context, queues: str | None, concurrency: int, burst: bool, grace: float, processes: int, log_level: str
) -> None:
    """Run a worker for the tasks of --app."""  # fmt: skip
    if not ctx.app_path:
        raise click.UsageError("jobq worker needs --app module:attribute (or JOBQ_APP) to find your tasks")
    names = [name.strip() for name in queues.split(",") if name.strip()] if queues else None
    options: dict[str, Any] = {"concurrency": concurrency, "queues": names, "burst": burst, "grace": grace,
                               "log_level": log_level.upper()}  # fmt: skip
    if processes == 1:
        _work(ctx.app(create=True), options)
        return
    ctx.app(create=True).migrate()  # once, before the children race to do it
    sys.exit(_run_processes(ctx.app_path, ctx.url, processes, options))


def _work(app: App, options: dict[str, Any], *, running: Callable[[], None] | None = None) -> None:
    options = dict(options)
    level = options.pop("log_level", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
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
    """Run ``count`` worker processes, replace those that die, pass them our signals; returns the worst exit code.

    A signal reaches a child only once its worker has installed its handlers (the spawned interpreter takes
    a while to start): one that comes earlier waits, instead of killing a half-started child.
    """
    logging.basicConfig(level=options.get("log_level", "INFO"),
                        format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")  # fmt: skip
    fleet = _Fleet(app_path, url, count, options)

    def forward(signum: int, frame: FrameType | None) -> None:
        fleet.received.append(signum)
        fleet.deliver()

    previous = {signum: signal.signal(signum, forward) for signum in STOP_SIGNALS}
    try:
        return fleet.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _child(app_path: str, url: str | None, options: dict[str, Any], ready: EventType) -> None:
    # Its own process group: a terminal's Ctrl-C reaches the parent only, which passes it on once.
    os.setpgrp()
    _work(load_app(app_path, url), options, running=ready.set)


@dataclass
class _Slot:
    """One place in the fleet: the worker process in it now, and how its predecessors fared."""

    number: int
    process: BaseProcess
    ready: EventType
    sent: int = 0
    """Signals passed on to this process so far."""
    failed_starts: int = 0
    """Processes in a row that died before their worker ran: each doubles the wait before the next."""
    restart_at: float | None = None
    done: bool = False


class _Fleet:
    """The worker processes of ``jobq worker --processes N``: started, replaced when they die, stopped."""

    def __init__(self, app_path: str, url: str | None, count: int, options: dict[str, Any]) -> None:
        self._spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each: no inherited threads
        self._args = (app_path, url, options)
        self._burst = bool(options.get("burst"))
        self.received: list[int] = []
        """Stop signals received, in order: every child gets each of them once (graceful, then at once)."""
        self.slots = [self._new_slot(number) for number in range(1, count + 1)]

    def _new_slot(self, number: int) -> _Slot:
        ready = self._spawn.Event()
        process = self._spawn.Process(target=_child, args=(*self._args, ready), name=f"jobq-worker-{number}")
        return _Slot(number, process, ready)

    def run(self) -> int:
        """Supervise until every slot is done; the worst exit code of the last process of each slot."""
        for slot in self.slots:
            slot.process.start()
        while active := [slot for slot in self.slots if not slot.done]:
            sentinels = [slot.process.sentinel for slot in active if slot.process.is_alive()]
            if sentinels:
                wait(sentinels, timeout=SUPERVISE_EVERY)
            else:
                time.sleep(SUPERVISE_EVERY)
            self.deliver()
            for slot in active:
                if not slot.process.is_alive():
                    self._tend(slot, time.monotonic())
        return max(abs(slot.process.exitcode or 0) for slot in self.slots)

    def deliver(self) -> None:
        """Pass on the signals each ready, living child has not had yet."""
        for slot in self.slots:
            process = slot.process
            while slot.sent < len(self.received) and slot.ready.is_set() and process.pid and process.is_alive():
                os.kill(process.pid, self.received[slot.sent])
                slot.sent += 1

    def _tend(self, slot: _Slot, now: float) -> None:
        """A slot whose process has exited: done, due for a replacement, or waiting for one."""
        if self.received or (self._burst and slot.process.exitcode == 0):
            slot.done = True  # we are stopping, or a burst worker found the queue idle: its work is over
        elif slot.restart_at is None:
            slot.failed_starts = 0 if slot.ready.is_set() else slot.failed_starts + 1
            delay = min(RESTART_DELAY_CAP, RESTART_DELAY * 2 ** max(0, slot.failed_starts - 1))
            slot.restart_at = now + delay
            log.warning(
                "Worker process %d (pid %s) %s; restarting in %.0f s",
                slot.number, slot.process.pid, _how_it_ended(slot.process.exitcode), delay,
            )  # fmt: skip
        elif now >= slot.restart_at:
            replacement = self._new_slot(slot.number)
            slot.ready, slot.sent, slot.process, slot.restart_at = replacement.ready, 0, replacement.process, None
            slot.process.start()


def _how_it_ended(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"died with exit code {exitcode}"
