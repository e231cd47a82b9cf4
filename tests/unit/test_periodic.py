"""Periodic schedules: when ticks fall, which are due, and what a bad schedule says."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import jobq
from jobq.periodic import LATE, Schedule, new_schedule, ticks_to_enqueue


def schedule(spec: str | timedelta, *, tz: str | None = None, missed: str = "latest") -> Schedule:
    return new_schedule(spec, task="t", name=None, args=(), kwargs=None, tz=tz, missed=missed)  # type: ignore[arg-type]


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_an_interval_ticks_on_whole_multiples_since_the_epoch() -> None:
    every = schedule(timedelta(minutes=5))
    assert every.latest_at(at("2026-01-01T10:07:30")) == at("2026-01-01T10:05:00")
    assert every.next_after(at("2026-01-01T10:05:00")) == at("2026-01-01T10:10:00")
    assert every.ticks_between(at("2026-01-01T10:00:00"), at("2026-01-01T10:10:00")) == [
        at("2026-01-01T10:05:00"),
        at("2026-01-01T10:10:00"),
    ]


def test_a_cron_schedule_follows_its_time_zone_across_summer_time() -> None:
    daily = schedule("0 9 * * *", tz="Europe/Paris")
    # 09:00 in Paris is 08:00 UTC in winter and 07:00 UTC in summer (the clocks moved on 29 March 2026).
    assert daily.next_after(at("2026-03-27T12:00:00")) == at("2026-03-28T08:00:00")
    assert daily.next_after(at("2026-03-29T12:00:00")) == at("2026-03-30T07:00:00")
    assert daily.latest_at(at("2026-03-30T07:00:00")) == at("2026-03-30T07:00:00")
    assert str(daily) == "0 9 * * * (Europe/Paris)"


def test_every_tick_of_the_last_minute_is_due_after_the_last_one_handled() -> None:
    every = schedule(timedelta(seconds=1))
    now = at("2026-01-01T10:00:10.5")
    assert ticks_to_enqueue(every, after=at("2026-01-01T10:00:07"), now=now) == [
        at("2026-01-01T10:00:08"),
        at("2026-01-01T10:00:09"),
        at("2026-01-01T10:00:10"),
    ]
    assert ticks_to_enqueue(every, after=at("2026-01-01T10:00:10"), now=now) == []


def test_of_the_ticks_missed_while_no_worker_ran_only_the_latest_is_enqueued() -> None:
    hourly = schedule("0 * * * *")
    now = at("2026-01-01T13:30:00")
    assert ticks_to_enqueue(hourly, after=at("2026-01-01T09:00:00"), now=now) == [at("2026-01-01T13:00:00")]


def test_with_skip_missed_ticks_are_not_enqueued_but_the_next_one_is() -> None:
    hourly = schedule("0 * * * *", missed="skip")
    assert ticks_to_enqueue(hourly, after=at("2026-01-01T09:00:00"), now=at("2026-01-01T13:30:00")) == []
    on_time = at("2026-01-01T14:00:00") + LATE / 2
    assert ticks_to_enqueue(hourly, after=at("2026-01-01T09:00:00"), now=on_time) == [at("2026-01-01T14:00:00")]


def test_a_clock_that_steps_back_finds_nothing_due() -> None:
    every = schedule(timedelta(seconds=10))
    assert ticks_to_enqueue(every, after=at("2026-01-01T10:00:00"), now=at("2026-01-01T09:58:00")) == []


@pytest.mark.parametrize(
    ("spec", "options", "message"),
    [
        ("*/5 * * *", {}, "not a cron expression: '*/5 * * *'"),
        ("61 * * * *", {}, "not a cron expression"),
        ("0 * * * *", {"tz": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        (timedelta(milliseconds=500), {}, "whole number of seconds, at least 1"),
        (timedelta(seconds=5), {"tz": "UTC"}, "tz applies to cron schedules"),
        ("0 * * * *", {"missed": "all"}, "missed must be one of latest, skip"),
    ],
)
def test_a_bad_schedule_fails_at_decoration_with_one_line(spec: object, options: dict[str, str], message: str) -> None:
    app = jobq.App("sqlite://:memory:")

    @app.task
    def report() -> None: ...

    with pytest.raises(ValueError, match=re.escape(message)) as failure:
        app.periodic(spec, **options)(report)  # type: ignore[arg-type]
    assert "\n" not in str(failure.value)
    assert app.schedules == {}


def test_periodic_goes_above_a_task_with_arguments_it_accepts() -> None:
    app = jobq.App("sqlite://:memory:")

    def plain() -> None: ...

    with pytest.raises(TypeError, match=r"@app\.periodic goes above @app\.task"):
        app.periodic("0 * * * *")(plain)  # type: ignore[arg-type]

    @app.task
    def report(day: str) -> None: ...

    with pytest.raises(jobq.PayloadError):
        app.periodic("0 * * * *", kwargs={"month": "may"})(report)
    app.periodic("0 * * * *", kwargs={"day": "mon"})(report)
    with pytest.raises(jobq.JobqError, match="exists: pass name= to tell them apart"):
        app.periodic("0 9 * * *", kwargs={"day": "tue"})(report)
    app.periodic("0 9 * * *", kwargs={"day": "tue"}, name="report-tuesday")(report)
    assert len(app.schedules) == 2 and app.schedules["report-tuesday"].kwargs == {"day": "tue"}
