"""What the messaging example's tests share: the fake provider on loopback, apps on real SQLite files, draining."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from examples.messaging.fake_server import FakeProviderServer
from examples.messaging.http_provider import HttpProvider

import jobq

REPO = Path(__file__).resolve().parents[2]
API_KEY = "test-key"
CLIENT_TIMEOUT = 0.3
"""Seconds HttpProvider waits for the fake provider: short, so that an outage costs little test time."""


@pytest.fixture
def fake_provider() -> Iterator[FakeProviderServer]:
    """The fake provider API, serving on a free loopback port; ``Retry-After: 1`` on 429 and 503."""
    with FakeProviderServer(api_key=API_KEY, retry_after=1, hang=5.0) as server:
        yield server


@pytest.fixture
def http_provider(fake_provider: FakeProviderServer) -> Iterator[HttpProvider]:
    """The example's HttpProvider, pointed at the fake provider."""
    provider = HttpProvider(fake_provider.url, API_KEY, timeout=CLIENT_TIMEOUT)
    yield provider
    provider.close()


def drain(app: jobq.App, *, timeout: float = 20.0) -> None:
    """Run burst workers until no job is left queued, sleeping until retries scheduled for later come due."""
    deadline = time.monotonic() + timeout
    while True:
        app.run_worker(concurrency=4, burst=True, install_signal_handlers=False)
        waiting = [job.run_at.timestamp() for job in app.list_jobs(status="queued", limit=1000) if job.run_at]
        if not waiting:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"jobs still queued after {timeout} s")
        time.sleep(min(1.0, max(0.0, min(waiting) - app.clock())))


def job(app: jobq.App, job_id: str) -> jobq.Job:
    """A job that must exist."""
    found = app.get_job(job_id)
    assert found is not None, f"no job {job_id}"
    return found


def letter_of(app: jobq.App, job_id: str) -> jobq.DeadLetter:
    """The dead letter a job became, in full."""
    for letter in app.dlq.list(limit=1000):
        if letter.job_id == job_id:
            full = app.dlq.get(letter.id)
            assert full is not None
            return full
    raise AssertionError(f"job {job_id} is not in the DLQ")
