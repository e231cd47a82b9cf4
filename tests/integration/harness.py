"""What the in-process integration tests share: a burst worker, polling, a hand-moved clock, HTTP-shaped errors."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

import jobq
from jobq.job import DeadLetterId

TRACEBACK_LIMIT = 8192  # SPEC 2: the traceback kept per attempt is bounded
MESSAGE_LIMIT = 2000


def work(app: jobq.App, *, concurrency: int = 2, **options: Any) -> jobq.WorkerSummary:
    """Run a burst worker in this thread until nothing is due and nothing runs."""
    return app.run_worker(concurrency=concurrency, burst=True, install_signal_handlers=False, **options)


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def job_count(app: jobq.App) -> int:
    """Every job stored, whatever its state."""
    return len(app.list_jobs(limit=100_000))


def get_job(app: jobq.App, job_id: str) -> jobq.Job:
    """A job that must exist."""
    job = app.get_job(job_id)
    assert job is not None, f"no job {job_id}"
    return job


def status(app: jobq.App, job_id: str) -> str:
    """The state of a job that must exist."""
    return get_job(app, job_id).status


def get_letter(app: jobq.App, dead_letter_id: str) -> jobq.DeadLetter:
    """A dead letter that must exist."""
    letter = app.dlq.get(DeadLetterId(dead_letter_id))
    assert letter is not None, f"no dead letter {dead_letter_id}"
    return letter


def seconds(moment: datetime | None) -> float:
    """A stored time as unix seconds."""
    assert moment is not None
    return moment.timestamp()


def dlq_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The WARNING lines that announce a dead-lettering."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "moved to DLQ" in record.getMessage()
    ]


class ManualClock:
    """A clock the test moves by hand (``App(clock=...)``), so scheduling needs no sleeping."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, by: float) -> None:
        self.now += by


class FakeResponse:
    """Shaped like an httpx / requests response: a status and headers."""

    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        self.status_code = status_code
        self.headers = headers or {}


class HTTPStatusError(Exception):
    """Shaped like httpx.HTTPStatusError: the status is on ``.response``."""

    def __init__(self, status_code: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code} from the provider")
        self.response = FakeResponse(status_code, headers)


class BlockOnce:
    """A handler body that blocks on its first call only (until released) and returns at once after."""

    def __init__(self) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> None:
        self.calls += 1
        if self.calls == 1:
            self.started.set()
            self.release.wait(30)


def start_worker_thread(app: jobq.App, **options: Any) -> tuple[jobq.Worker, threading.Thread]:
    """A (non-burst) worker running in a thread of this process."""
    worker = jobq.Worker(app, **options)
    thread = threading.Thread(target=worker.run, kwargs={"install_signal_handlers": False}, daemon=True)
    thread.start()
    return worker, thread


def vanish_mid_job(app: jobq.App, body: BlockOnce, **options: Any) -> str:
    """Run a worker until its job has started, then stop it at once: no outcome, no more heartbeats."""
    ghost, thread = start_worker_thread(app, concurrency=1, **options)
    assert body.started.wait(10), "the job never started"
    ghost.stop(immediately=True)
    thread.join(10)
    assert not thread.is_alive()
    return ghost.id
