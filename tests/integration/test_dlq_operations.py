"""``app.dlq`` on real databases: replay (racing, forced, in bulk and throttled), abandon, purge, export and
import between databases, and the stats() shape of SPEC section 3 with true numbers."""

from __future__ import annotations

import csv
import io
import json
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import jobq
from jobq.job import DeadLetterId

from .harness import (
    BlockOnce,
    get_job,
    get_letter,
    job_count,
    work,
)


@pytest.fixture
def block_once() -> Iterator[BlockOnce]:
    body = BlockOnce()
    yield body
    body.release.set()


def make_dead(app: jobq.App, count: int, *, task: str = "doomed", tenant: str | None = None) -> list[str]:
    """``count`` dead letters of ``task`` (a Permanent failure, so one attempt each); their ids."""
    if task not in app.tasks:

        @app.task(name=task, max_attempts=1)
        def doomed(n: int) -> None:
            raise jobq.Permanent(f"item {n} is invalid")

    app.enqueue_many(task, [{"n": n} for n in range(count)], tenant=tenant)
    work(app)
    ids: list[str] = [letter.id for letter in app.dlq.list(task=task, limit=1000)]
    assert len(ids) == count
    return ids


def test_two_concurrent_replays_of_one_dead_letter_make_exactly_one_job(url: str) -> None:
    with jobq.App(url) as app:
        letters = make_dead(app, 10)
        for letter_id in letters:
            barrier = threading.Barrier(2)
            results: list[str | jobq.JobqError] = []

            def replay(
                letter_id: str = letter_id, barrier: threading.Barrier = barrier, results: list[Any] = results
            ) -> None:
                barrier.wait()
                try:
                    results.append(app.dlq.replay(DeadLetterId(letter_id)))
                except jobq.JobqError as exc:
                    results.append(exc)

            threads = [threading.Thread(target=replay) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            made = [r for r in results if isinstance(r, str)]
            refused = [r for r in results if not isinstance(r, str)]
            assert len(made) == 1 and len(refused) == 1, results
            assert isinstance(refused[0], jobq.AlreadyReplayed)
            assert get_letter(app, letter_id).replayed_as == made[0]

        assert len(app.list_jobs(status="queued", limit=1000)) == 10


def test_concurrent_replays_through_two_connections_make_exactly_one_job(file_url: str) -> None:
    # Two App objects on one file: two connections, no shared in-process lock; BEGIN IMMEDIATE must decide.
    with jobq.App(file_url) as first, jobq.App(file_url) as second:
        letters = make_dead(first, 10)
        for letter_id in letters:
            barrier = threading.Barrier(2)
            results: list[str | jobq.JobqError] = []

            def replay(
                app: jobq.App,
                letter_id: str = letter_id,
                barrier: threading.Barrier = barrier,
                results: list[Any] = results,
            ) -> None:
                barrier.wait()
                try:
                    results.append(app.dlq.replay(DeadLetterId(letter_id)))
                except jobq.JobqError as exc:
                    results.append(exc)

            threads = [threading.Thread(target=replay, args=(app,)) for app in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(10)
            assert sorted(type(r).__name__ for r in results) == ["AlreadyReplayed", "str"], results

        replays = [job for job in first.list_jobs(limit=1000) if job.replay_of is not None]
        assert sorted(str(job.replay_of) for job in replays) == sorted(letters)


def test_forced_replay_makes_another_job_and_keeps_the_latest_link(url: str) -> None:
    with jobq.App(url) as app:
        [letter_id] = make_dead(app, 1)
        first = app.dlq.replay(DeadLetterId(letter_id))
        with pytest.raises(jobq.AlreadyReplayed):
            app.dlq.replay(DeadLetterId(letter_id))
        second = app.dlq.replay(DeadLetterId(letter_id), force=True)

        assert second != first
        assert {get_job(app, first).replay_of, get_job(app, second).replay_of} == {letter_id}
        assert get_letter(app, letter_id).replayed_as == second
        with pytest.raises(jobq.NotFound):
            app.dlq.replay(DeadLetterId("01NOSUCHDEADLETTER0000000"))


def test_replay_many_dry_run_counts_then_replays_throttled_and_skips_abandoned(url: str) -> None:
    with jobq.App(url) as app:
        acme = make_dead(app, 6, tenant="acme")
        make_dead(app, 3, task="other", tenant="globex")
        abandoned = acme[0]

        assert app.dlq.abandon(DeadLetterId(abandoned), note="customer closed the account") is True
        assert app.dlq.abandon(DeadLetterId(abandoned), note="again") is False
        letter = app.dlq.get(DeadLetterId(abandoned))
        assert letter is not None and (letter.resolution, letter.note) == ("abandoned", "customer closed the account")

        before = job_count(app)
        dry = app.dlq.replay_many(tenant="acme", dry_run=True)
        assert (dry.matched, dry.dry_run, dry.replayed, dry.results) == (5, True, 0, [])
        assert job_count(app) == before

        started = time.monotonic()
        report = app.dlq.replay_many(tenant="acme", rate=10)
        elapsed = time.monotonic() - started

        assert (report.matched, report.replayed) == (5, 5)
        assert 0.4 <= elapsed < 3.0, f"5 replays at 10/s took {elapsed:.2f} s"
        assert abandoned not in {r.dead_letter_id for r in report.results}
        assert job_count(app) == before + 5
        assert app.dlq.count(tenant="acme", resolution="replayed") == 5
        assert app.dlq.count(tenant="globex", resolution="open") == 3

        assert app.dlq.replay_many(tenant="acme").matched == 0  # replayed ones are not open any more
        started = time.monotonic()
        assert app.dlq.replay_many(task="other").replayed == 3  # unthrottled: quick
        assert time.monotonic() - started < 1.0


def test_purge_needs_older_than_or_a_filter_and_deletes_only_what_matches(url: str) -> None:
    with jobq.App(url) as app:
        make_dead(app, 3, task="keep")
        make_dead(app, 2, task="drop")

        with pytest.raises(ValueError, match="older_than"):
            app.dlq.purge()
        assert app.dlq.purge(older_than=timedelta(days=30)) == 0
        assert app.dlq.purge(task="drop") == 2
        assert app.dlq.count() == 3
        assert app.dlq.purge(older_than=timedelta(0)) == 3  # everything failed before "now"
        assert app.dlq.count() == 0


def test_export_jsonl_and_csv_then_import_into_a_second_database(url: str, tmp_path: Path) -> None:
    with jobq.App(url) as source, jobq.App(f"sqlite:///{tmp_path / 'second.db'}") as target:
        make_dead(source, 4, tenant="acme")
        source.dlq.abandon(source.dlq.list(limit=1)[0].id, note="known issue")
        letters = [get_letter(source, letter.id) for letter in source.dlq.list()]

        jsonl = io.StringIO()
        assert source.dlq.export(jsonl, format="jsonl") == 4
        rows = [json.loads(line) for line in jsonl.getvalue().splitlines()]
        assert {row["id"] for row in rows} == {letter.id for letter in letters}
        assert all(row["payload"]["kwargs"]["n"] in range(4) and row["errors"] for row in rows)

        jsonl.seek(0)
        assert target.dlq.import_(jsonl) == 4
        jsonl.seek(0)
        assert target.dlq.import_(jsonl) == 0  # ids already present are skipped
        for letter in letters:
            assert target.dlq.get(letter.id) == letter
        assert target.dlq.count(resolution="abandoned") == 1
        replayed = target.dlq.replay(letters[1].id)
        assert get_job(target, replayed).payload == letters[1].payload
        assert source.get_job(replayed) is None

        table = io.StringIO()
        assert source.dlq.export(table, format="csv", tenant="acme") == 4
        table.seek(0)
        reader = csv.DictReader(table)
        parsed = list(reader)
        assert reader.fieldnames is not None
        assert {"id", "job_id", "task", "error_class", "error_type", "error_message", "fingerprint"} <= set(
            reader.fieldnames
        )
        assert {row["id"] for row in parsed} == {letter.id for letter in letters}
        assert {row["error_class"] for row in parsed} == {"user_error"}


def test_stats_have_the_spec_shape_and_true_numbers(url: str, block_once: BlockOnce) -> None:
    with jobq.App(url) as app:

        @app.task(name="ok")
        def ok() -> None:
            pass

        @app.task(name="fail", max_attempts=3, backoff=0)
        def fail(kind: str) -> None:
            match kind:
                case "permanent":
                    raise jobq.Permanent("bad input")
                case "recoverable":
                    raise jobq.Retry("try later", after=0)
                case "system":
                    raise OSError("disk on fire")
                case _:
                    raise KeyError(kind)

        ok.enqueue()
        ok.enqueue()
        fail.enqueue(kind="permanent")
        fail.enqueue(kind="permanent")
        fail.enqueue(kind="recoverable")  # 3 attempts
        fail.enqueue(kind="system")  # 3 attempts
        fail.enqueue(kind="unknown")  # 3 attempts
        work(app, queues=["default"])

        # An old dead letter (3 days ago) arrives by import: it counts in the totals but not in last_24h.
        exported = io.StringIO()
        app.dlq.export(exported, task="fail", error_class="user_error")
        old = json.loads(exported.getvalue().splitlines()[0])
        old |= {"id": "01OLDLETTER000000000000000", "failed_at": (datetime.now(UTC) - timedelta(days=3)).isoformat()}
        app.dlq.import_(io.StringIO(json.dumps(old) + "\n"))

        [unknown] = app.dlq.list(error_class="unknown")
        app.dlq.abandon(unknown.id, note="won't fix")

        app.enqueue("ok", queue="other")
        app.enqueue("ok", queue="other")
        app.enqueue("ok", queue="other", delay=3600)

        @app.task(name="busy", queue="busy")
        def busy() -> None:
            block_once()

        busy.enqueue()
        ghost = jobq.Worker(app, queues=["busy"])
        thread = threading.Thread(target=ghost.run, kwargs={"install_signal_handlers": False})
        thread.start()
        try:
            assert block_once.started.wait(10)
            stats = app.stats()
        finally:
            block_once.release.set()
            ghost.stop()
            thread.join(10)

        recovery = {state: app.dlq.count(resolution=state) for state in ("pending_recovery", "recovered")}
        assert stats == {
            "dlq": {
                "total_failed": 6,
                "permanent_failures": 5,
                "last_24h": 5,
                "avg_retries": round((1 + 1 + 3 + 3 + 3 + 1) / 6, 2),
                "pruned": 0,
                "recovery": {
                    "total_in_recovery": recovery["pending_recovery"] + recovery["recovered"],
                    "pending_recovery": recovery["pending_recovery"],
                    "recovered": recovery["recovered"],
                    "abandoned": 1,
                },
            },
            "queues": {
                "default": {"queued": 0, "scheduled": 0, "running": 0, "succeeded": 2, "dead": 5, "cancelled": 0},
                "other": {"queued": 2, "scheduled": 1, "running": 0, "succeeded": 0, "dead": 0, "cancelled": 0},
                "busy": {"queued": 0, "scheduled": 0, "running": 1, "succeeded": 0, "dead": 0, "cancelled": 0},
            },
            "by_class": {"recoverable": 1, "user_error": 3, "system_error": 1, "unknown": 1},
            "hooks": {"pending": 0, "delivered": 0, "failed": 0},
            "paused": [],
        }
        assert statistics.mean(letter.attempts for letter in app.dlq.list()) == pytest.approx(2.0)
