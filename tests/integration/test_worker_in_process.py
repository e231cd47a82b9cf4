"""The worker in one process: async handlers, timeouts, dependency injection, and jobs of a vanished worker."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import jobq

from .harness import (
    BlockOnce,
    ManualClock,
    dlq_lines,
    status,
    vanish_mid_job,
    wait_until,
    work,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def block_once() -> Iterator[BlockOnce]:
    body = BlockOnce()
    yield body
    body.release.set()


@pytest.fixture
def async_loop_leak_collected() -> Iterator[None]:
    """The worker's asyncio thread ends with the worker, and its loop is collected inside this test."""
    yield
    wait_until(lambda: not any(t.name == "jobq-async" for t in threading.enumerate()), what="jobq-async to end")
    gc.collect()


@pytest.mark.usefixtures("async_loop_leak_collected")
def test_async_tasks_run_concurrently_on_the_workers_event_loop(url: str) -> None:
    with jobq.App(url) as app:
        seen: list[tuple[str, float, float]] = []

        @app.task(name="fetch")
        async def fetch(n: int) -> None:
            asyncio.get_running_loop()  # raises unless on an event loop
            started = time.monotonic()
            await asyncio.sleep(0.3)
            seen.append((threading.current_thread().name, started, time.monotonic()))

        ids = [fetch.enqueue(n=n) for n in range(4)]
        work(app, concurrency=4)

        assert all(status(app, i) == "succeeded" for i in ids)
        assert len({name for name, _, _ in seen}) == 1  # one event-loop thread
        assert max(start for _, start, _ in seen) < min(end for _, _, end in seen), "they overlapped"


@pytest.mark.usefixtures("async_loop_leak_collected")
def test_async_task_past_its_timeout_is_recorded_as_job_timeout(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="hang", timeout=0.2, max_attempts=2, backoff=0)
        async def hang() -> None:
            await asyncio.sleep(30)

        job_id = hang.enqueue()
        started = time.monotonic()
        summary = work(app)

        assert time.monotonic() - started < 5
        assert (summary.retried, summary.dead) == (1, 1)
        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("dead", 2)
        assert [e.error_type for e in job.errors] == ["jobq.JobTimeout"] * 2
        assert all(0.15 <= (e.duration or 0) < 3 for e in job.errors)
        [letter] = app.dlq.list()
        assert letter.error_class == "recoverable"


def test_worker_cancels_timed_out_coroutines_and_closes_its_event_loop(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    cleaned_up = threading.Event()
    with jobq.App(url) as app:

        @app.task(name="hang", timeout=0.2, max_attempts=1)
        async def hang() -> None:
            try:
                await asyncio.sleep(30)
            finally:
                cleaned_up.set()

        hang.enqueue()
        work(app)
        wait_until(lambda: not any(t.name == "jobq-async" for t in threading.enumerate()), what="jobq-async to end")
        gc.collect()

    leaked = [str(u.exc_value) for u in unraisable]
    assert leaked == []
    assert cleaned_up.is_set(), "the timed-out coroutine's finally block never ran"


def test_sync_task_past_its_timeout_is_recorded_and_its_late_return_changes_nothing(url: str) -> None:
    release, returned = threading.Event(), threading.Event()
    try:
        with jobq.App(url) as app:

            @app.task(name="stuck", timeout=0.3, max_attempts=1)
            def stuck() -> None:
                release.wait(30)
                returned.set()

            stuck_id = stuck.enqueue()
            started = time.monotonic()
            summary = work(app, concurrency=1)

            assert time.monotonic() - started < 5, "burst must not wait for a handler past its timeout"
            assert summary.dead == 1
            job = app.get_job(stuck_id)
            assert job is not None and job.status == "dead"
            [error] = job.errors
            assert error.error_type == "jobq.JobTimeout" and "timeout" in error.message
            assert 0.25 <= (error.duration or 0) < 5
            [letter] = app.dlq.list()
            assert (letter.error_type, letter.error_class) == ("jobq.JobTimeout", "recoverable")

            release.set()
            assert returned.wait(5)
            assert status(app, stuck_id) == "dead"
            assert app.dlq.count() == 1
    finally:
        release.set()


def test_worker_keeps_its_concurrency_while_a_handler_is_stuck_past_its_timeout(file_url: str) -> None:
    release = threading.Event()
    summaries: list[jobq.WorkerSummary] = []
    with jobq.App(file_url) as app:

        @app.task(name="stuck", timeout=0.3, max_attempts=1)
        def stuck() -> None:
            release.wait(30)

        @app.task(name="quick")
        def quick() -> None:
            pass

        stuck.enqueue(_priority=10)
        quick_ids = [quick.enqueue() for _ in range(3)]
        worker = threading.Thread(target=lambda: summaries.append(work(app, concurrency=1)))
        worker.start()
        try:
            deadline = time.monotonic() + 3.0  # the quick jobs need well under a second once the timeout fires
            while time.monotonic() < deadline:
                states = [status(app, i) for i in quick_ids]
                if states == ["succeeded"] * 3:
                    break
                time.sleep(0.02)
            quick_ran_while_stuck = states == ["succeeded"] * 3 and not release.is_set()
        finally:
            release.set()
            worker.join(30)
        assert quick_ran_while_stuck, f"quick jobs while a handler was stuck: {states}"
        assert summaries[0].succeeded == 3


class Recorder:
    """A fake provider: remembers what it was asked to send."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[str] = []

    def send(self, to: str) -> None:
        self.sent.append(to)


def test_handlers_get_dependencies_from_the_app_and_the_worker_overrides_them(url: str) -> None:
    from_app, from_worker = Recorder("app"), Recorder("worker")
    with jobq.App(url, dependencies={"provider": from_app, "region": "eu"}) as app:
        regions: list[str] = []

        @app.task(name="send")
        def send(to: str, *, provider: Recorder, region: str) -> None:
            provider.send(to)
            regions.append(region)

        send.enqueue(to="first")
        work(app)
        send.enqueue(to="second")
        work(app, dependencies={"provider": from_worker})

        send.enqueue(to="third")
        jobq.Worker(app, burst=True).run(install_signal_handlers=False)  # a Worker made by hand: the app's too

        assert (from_app.sent, from_worker.sent, regions) == (["first", "third"], ["second"], ["eu", "eu", "eu"])
        stored = [job.payload for job in app.list_jobs()]
        assert all(set(p["kwargs"]) == {"to"} for p in stored), "dependencies are never stored in payloads"


def test_plain_parameter_named_like_an_app_dependency_is_injected_not_required_at_enqueue(url: str) -> None:
    provider = Recorder("app")
    with jobq.App(url, dependencies={"provider": provider}) as app:

        @app.task(name="send")
        def send(to: str, provider: Recorder) -> None:
            provider.send(to)

        job_id = send.enqueue(to="+15550100")
        work(app)

        assert status(app, job_id) == "succeeded"
        assert provider.sent == ["+15550100"]


def test_task_whose_dependency_comes_only_from_the_worker_can_be_enqueued_and_run(url: str) -> None:
    provider = Recorder("worker")
    with jobq.App(url) as app:

        @app.task(name="send")
        def send(to: str, *, provider: Recorder) -> None:
            provider.send(to)

        job_id = send.enqueue(to="+15550100")
        work(app, dependencies={"provider": provider})

        assert status(app, job_id) == "succeeded"
        assert provider.sent == ["+15550100"]


def test_job_of_a_vanished_worker_is_retried_after_its_lease_with_a_worker_lost_entry(
    url: str, clock: ManualClock, block_once: BlockOnce
) -> None:
    with jobq.App(url, lease=1.0, clock=clock) as app:

        @app.task(name="resilient", max_attempts=3, backoff=0)
        def resilient() -> None:
            block_once()

        job_id = resilient.enqueue()
        ghost = vanish_mid_job(app, block_once)
        assert status(app, job_id) == "running"
        assert work(app).processed == 0, "the lease has not expired yet: nothing to rescue, nothing due"
        assert status(app, job_id) == "running"

        clock.advance(5)
        summary = work(app)

        assert (summary.rescued, summary.succeeded, block_once.calls) == (1, 1, 2)
        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("succeeded", 2)
        [error] = job.errors
        assert (error.error_type, error.attempt, error.worker) == ("jobq.WorkerLost", 1, ghost)
        assert error.duration == pytest.approx(5, abs=0.01)


def test_job_of_a_vanished_worker_out_of_attempts_is_dead_lettered_with_the_dlq_log_line(
    url: str, clock: ManualClock, block_once: BlockOnce, caplog: pytest.LogCaptureFixture
) -> None:
    with jobq.App(url, lease=1.0, clock=clock) as app:

        @app.task(name="fragile", max_attempts=1)
        def fragile() -> None:
            block_once()

        job_id = fragile.enqueue()
        ghost = vanish_mid_job(app, block_once)
        clock.advance(5)
        caplog.set_level(logging.WARNING, logger="jobq")
        summary = work(app)

        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("dead", 1)
        [error] = job.errors
        assert (error.error_type, error.attempt, error.worker) == ("jobq.WorkerLost", 1, ghost)
        [letter] = app.dlq.list(with_payload=True)
        assert (letter.job_id, letter.error_type, letter.error_class) == (job_id, "jobq.WorkerLost", "system_error")
        assert letter.payload == {"args": [], "kwargs": {}}
        assert summary.rescued == 1
        assert dlq_lines(caplog) == [f"Job {job_id} moved to DLQ after 1 attempts: jobq.WorkerLost"]
        assert summary.dead == 1


def test_metrics_count_every_attempt_by_queue_with_durations(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="ok", queue="fast")
        def ok() -> None:
            pass

        @app.task(name="bad", queue="slow", max_attempts=2, backoff=0)
        def bad() -> None:
            raise RuntimeError("no")

        for _ in range(3):
            ok.enqueue()
        bad.enqueue()
        app.run_worker(burst=True, install_signal_handlers=False)
        (letter,) = app.dlq.list()
        app.dlq.replay(letter.id)
        metrics = app.metrics()
        assert metrics.counters[("processed", "fast")] == 3
        assert metrics.counters[("succeeded", "fast")] == 3
        assert metrics.counters[("processed", "slow")] == 2
        assert metrics.counters[("failed", "slow")] == 2
        assert metrics.counters[("dead_lettered", "slow")] == 1
        assert metrics.counters[("replayed", "slow")] == 1
        assert metrics.histograms[("job_duration_seconds", "fast")].count == 3
        assert metrics.histograms[("queue_wait_seconds", "slow")].count == 2
