"""What producing a job promises: JSON-only payloads refused whole, unique keys, scheduling and priority."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest

import jobq

from .harness import (
    ManualClock,
    get_job,
    job_count,
    seconds,
    status,
    work,
)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.mark.parametrize(
    ("value", "named"),
    [
        pytest.param(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "datetime", id="datetime"),
        pytest.param({3, 1, 2}, "set", id="set"),
        pytest.param(float("nan"), "nan", id="nan"),
        pytest.param(object(), "object", id="object"),
    ],
)
def test_non_json_payload_is_refused_at_enqueue_naming_the_value_and_nothing_is_stored(
    url: str, value: object, named: str
) -> None:
    with jobq.App(url) as app:

        @app.task(name="notify")
        def notify(to: str, extra: Any) -> None:
            pass

        notify.enqueue(to="a", extra=1)
        before = job_count(app)

        with pytest.raises(jobq.PayloadError, match=named) as by_task:
            notify.enqueue(to="b", extra={"when": [value]})
        assert "extra" in str(by_task.value) and "when" in str(by_task.value)
        with pytest.raises(jobq.PayloadError, match=named):
            app.enqueue("unregistered.task", {"at": value})
        with pytest.raises(jobq.PayloadError, match=named):
            app.enqueue_many("notify", [{"to": "c", "extra": 1}, {"to": "d", "extra": value}])

        assert job_count(app) == before


def test_unique_key_returns_the_pending_job_until_it_has_run(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="sync_site")
        def sync_site(site: str) -> None:
            pass

        first = sync_site.enqueue(site="a", _unique_key="sync:a")
        assert sync_site.enqueue(site="a", _unique_key="sync:a") == first
        assert app.enqueue("sync_site", {"site": "a"}, unique_key="sync:a") == first
        other = sync_site.enqueue(site="b", _unique_key="sync:b")
        assert other != first
        assert job_count(app) == 2

        work(app)
        again = sync_site.enqueue(site="a", _unique_key="sync:a")
        assert again != first  # the first one is no longer pending
        assert status(app, again) == "queued"


def test_delayed_and_scheduled_jobs_run_only_when_due_and_burst_does_not_wait(url: str, clock: ManualClock) -> None:
    with jobq.App(url, clock=clock) as app:
        ran: list[str] = []

        @app.task(name="remind")
        def remind(what: str) -> None:
            ran.append(what)

        delayed = remind.enqueue(what="delayed", _delay=60)
        at = remind.enqueue(what="at", _run_at=datetime.fromtimestamp(clock.now + 120, UTC))
        remind.enqueue(what="now")

        assert work(app).succeeded == 1
        assert ran == ["now"]
        assert app.stats()["queues"]["default"] == {
            "queued": 0, "scheduled": 2, "running": 0, "succeeded": 1, "dead": 0, "cancelled": 0
        }  # fmt: skip
        assert seconds(get_job(app, delayed).run_at) == pytest.approx(clock.now + 60)

        clock.advance(61)
        assert work(app).succeeded == 1
        assert ran == ["now", "delayed"]
        assert status(app, at) == "queued"

        clock.advance(60)
        work(app)
        assert ran == ["now", "delayed", "at"]


def test_retry_scheduled_for_later_is_not_due_so_burst_returns_and_runs_it_when_due(
    url: str, clock: ManualClock
) -> None:
    with jobq.App(url, clock=clock) as app:
        calls: list[float] = []

        @app.task(name="flaky", max_attempts=3, backoff=jobq.Fixed(300.0))
        def flaky() -> None:
            calls.append(clock())
            if len(calls) == 1:
                raise ConnectionError("connection refused")

        job_id = flaky.enqueue()
        started = time.monotonic()
        summary = work(app)
        assert time.monotonic() - started < 10
        assert (summary.retried, summary.succeeded) == (1, 0)
        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("queued", 1)
        assert seconds(job.run_at) == pytest.approx(clock.now + 300)

        assert work(app).processed == 0  # still not due
        clock.advance(301)
        assert work(app).succeeded == 1
        assert status(app, job_id) == "succeeded"


def test_higher_priority_jobs_run_first(url: str) -> None:
    with jobq.App(url) as app:
        order: list[str] = []

        @app.task(name="step")
        def step(name: str) -> None:
            order.append(name)

        for name, priority in [("p0", 0), ("p5-first", 5), ("p-1", -1), ("p10", 10), ("p5-second", 5)]:
            step.enqueue(name=name, _priority=priority)
        work(app, concurrency=1)

        assert order == ["p10", "p5-first", "p5-second", "p0", "p-1"]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        pytest.param({"_priority": "high"}, "priority must be an int", id="priority"),
        pytest.param({"_priority": True}, "priority must be an int", id="priority-bool"),
        pytest.param({"_queue": 5}, "queue must be a str", id="queue"),
        pytest.param({"_tenant": ["a"]}, "tenant must be a str", id="tenant"),
        pytest.param({"_key": 1.5}, "key must be a str", id="key"),
        pytest.param({"_unique_key": b"k"}, "unique_key must be a str", id="unique-key"),
        pytest.param({"_delay": "soon"}, "delay must be seconds or a timedelta", id="delay"),
        pytest.param({"_delay": float("nan")}, "delay must be a finite number", id="delay-nan"),
        pytest.param({"_delay": -1}, "not negative", id="delay-negative"),
        pytest.param({"_run_at": "2026-01-01"}, "run_at must be a datetime", id="run-at"),
    ],
)
def test_an_option_of_the_wrong_type_is_refused_in_one_line_and_nothing_is_stored(
    url: str, options: dict[str, Any], named: str
) -> None:
    with jobq.App(url) as app:

        @app.task(name="notify")
        def notify(to: str) -> None:
            pass

        with pytest.raises(jobq.OptionError, match=named) as refused:
            notify.enqueue("a", **options)
        assert "\n" not in str(refused.value)
        with pytest.raises(jobq.OptionError, match="priority must be an int"):
            notify.enqueue_many([{"to": "b"}, {"to": "c"}], priority="high")  # type: ignore[arg-type]
        assert job_count(app) == 0
