"""An attempt is charged only to a job that started, and nothing a store or a handler does stops the worker."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

import jobq
from jobq.job import Lease, Outcome, Succeeded

from .harness import BlockOnce, ManualClock, get_job, start_worker_thread, status, vanish_mid_job, wait_until, work


def test_worker_claims_only_as_many_jobs_as_it_has_free_slots(url: str) -> None:
    with jobq.App(url) as app:
        release = threading.Event()

        @app.task(name="wait")
        def wait() -> None:
            release.wait(10)

        ids = [wait.enqueue() for _ in range(10)]
        worker, thread = start_worker_thread(app, concurrency=2)
        try:
            wait_until(lambda: sum(status(app, i) == "running" for i in ids) == 2, what="two jobs to start")
            waiting = [get_job(app, i) for i in ids if status(app, i) != "running"]
            assert [(job.status, job.attempts) for job in waiting] == [("queued", 0)] * 8
        finally:
            release.set()
            wait_until(lambda: all(status(app, i) == "succeeded" for i in ids), what="every job to finish")
            worker.stop()
            thread.join(10)


def test_claimed_job_whose_lease_went_stale_before_it_started_is_not_started_nor_charged(url: str) -> None:
    clock = ManualClock()
    with jobq.App(url, lease=5.0, clock=clock) as app:
        runs: list[str] = []

        @app.task(name="note")
        def note() -> None:
            runs.append("ran")

        job_id = note.enqueue()
        claim = app.backend.record_and_claim
        paused: list[bool] = []

        def claim_then_pause(*args: Any, **kwargs: Any) -> Any:
            done = claim(*args, **kwargs)
            if done[1] and not paused:  # as if the process were stopped (SIGSTOP) right after its claim
                paused.append(True)
                clock.advance(3.0)  # past the part of the lease in which a job may start, not its end
            return done

        app.backend.record_and_claim = claim_then_pause  # type: ignore[method-assign]
        work(app)

        job = get_job(app, job_id)
        assert paused and runs == ["ran"], "the stale claim did not run; the next claim did"
        assert (job.status, job.attempts, job.errors) == ("succeeded", 1, ())


@pytest.mark.parametrize("timeout", [None, 5.0], ids=["no-timeout", "timeout"])
def test_async_handlers_own_timeout_error_is_its_failure_not_a_job_timeout(url: str, timeout: float | None) -> None:
    with jobq.App(url) as app:

        @app.task(name="call_upstream", timeout=timeout, max_attempts=1)
        async def call_upstream() -> None:
            await asyncio.sleep(0)
            raise TimeoutError("upstream did not answer in 3 s")

        job_id = call_upstream.enqueue()
        work(app)

        [letter] = app.dlq.list()
        assert letter.job_id == job_id
        assert (letter.error_type, letter.error_message) == ("TimeoutError", "upstream did not answer in 3 s")
        full = app.dlq.get(letter.id)
        assert full is not None and "call_upstream" in full.error_traceback


def test_an_outcome_the_database_cannot_store_loses_no_other_and_the_worker_goes_on(url: str) -> None:
    with jobq.App(url, lease=1.0) as app:
        body = BlockOnce()

        @app.task(name="quick")
        def quick(n: int) -> None:
            pass

        @app.task(name="cursed")
        def cursed() -> None:
            body()

        cursed_id = cursed.enqueue()
        ids = [quick.enqueue(n=n) for n in range(6)]
        refused: list[Lease] = []

        def refuse_the_first_cursed_outcome(outcomes: Sequence[Outcome]) -> None:
            """The first attempt's success can never be written, however often it is tried."""
            for outcome in outcomes:
                cursed = outcome.lease.job_id == cursed_id and isinstance(outcome, Succeeded)
                if cursed and (not refused or refused[0] == outcome.lease):
                    refused.append(outcome.lease)
                    raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")

        record, record_and_claim = app.backend.record, app.backend.record_and_claim

        def checked_record(outcomes: Sequence[Outcome], **kwargs: Any) -> list[bool]:
            refuse_the_first_cursed_outcome(outcomes)
            return record(outcomes, **kwargs)

        def checked_record_and_claim(outcomes: Sequence[Outcome], **kwargs: Any) -> Any:
            refuse_the_first_cursed_outcome(outcomes)
            return record_and_claim(outcomes, **kwargs)

        app.backend.record = checked_record  # type: ignore[method-assign]
        app.backend.record_and_claim = checked_record_and_claim  # type: ignore[method-assign]
        worker, thread = start_worker_thread(app, concurrency=2)
        try:
            assert body.started.wait(10)
            body.release.set()  # finishes together with quick jobs: its outcome shares their write
            wait_until(lambda: status(app, cursed_id) == "succeeded", timeout=15, what="the rescue and the re-run")
            assert thread.is_alive(), "the worker goes on"
        finally:
            worker.stop()
            thread.join(10)

        assert len(refused) == 2, "refused in its group, then alone; then given up to the rescue"
        assert all((get_job(app, i).status, get_job(app, i).attempts) == ("succeeded", 1) for i in ids)
        job = get_job(app, cursed_id)
        assert job.attempts == 2, "the unrecorded attempt came back through the rescue, charged as lost"
        assert [error.error_type for error in job.errors] == ["jobq.WorkerLost"]


def test_job_lost_with_its_worker_runs_its_next_attempt_alone(url: str) -> None:
    with jobq.App(url, lease=1.0) as app:
        body = BlockOnce()
        running: set[str] = set()
        beside_lost: list[set[str]] = []
        lock = threading.Lock()

        def enter(name: str) -> None:
            with lock:
                if name == "lost" or "lost" in running:
                    beside_lost.append(set(running) | {name})
                running.add(name)

        def leave(name: str) -> None:
            with lock:
                running.discard(name)

        @app.task(name="lost", backoff=jobq.Fixed(0.0))
        def lost() -> None:
            enter("lost")
            body()
            time.sleep(0.2)
            leave("lost")

        @app.task(name="other")
        def other(n: int) -> None:
            enter(f"other-{n}")
            time.sleep(0.05)
            leave(f"other-{n}")

        lost_id = lost.enqueue()
        vanish_mid_job(app, body)  # the worker stops at once, mid-job: no outcome, no more heartbeats
        running.clear()
        beside_lost.clear()
        others = [other.enqueue(n=n) for n in range(8)]
        time.sleep(1.1)  # the lease runs out
        work(app, concurrency=4)

        assert status(app, lost_id) == "succeeded"
        assert all(status(app, i) == "succeeded" for i in others)
        assert beside_lost == [{"lost"}], "its next attempt ran with no other job beside it"
        assert [error.error_type for error in get_job(app, lost_id).errors] == ["jobq.WorkerLost"]
