"""Periodic schedules: when a task's ticks fall, and which of them a worker enqueues now. Pure: no I/O.

A schedule is a cron expression (read by croniter, in a time zone) or a fixed interval (ticks at whole multiples
of it since the unix epoch, so that every machine computes the same ticks). Workers enqueue each tick once: the
database keeps one row per schedule and tick (``periodic_ticks``), and this module only says which ticks are due.

Missed ticks. Every running worker looks each second, so a tick is enqueued within a second or two of its time.
A tick still not enqueued ``LATE`` seconds after its time was missed: no worker ran then. Of the missed ticks, the
latest is enqueued (``missed="latest"``, the default) or none (``missed="skip"``); never all of them, so a night
without workers does not flood the queue in the morning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

Missed = Literal["latest", "skip"]
MISSED: tuple[Missed, ...] = ("latest", "skip")
LATE = 60.0
"""Seconds after its time from which a tick that no worker enqueued counts as missed."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a task runs by itself, and with which arguments."""

    name: str
    """The schedule's key in the database (by default the task's name)."""
    task: str
    cron: str | None
    every: int | None
    """Seconds between ticks, for an interval schedule (None for a cron one)."""
    tz: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    missed: Missed = "latest"

    def __str__(self) -> str:
        if self.cron is not None:
            return self.cron if self.tz == "UTC" else f"{self.cron} ({self.tz})"
        return f"every {timedelta(seconds=self.every or 0)}"

    def next_after(self, moment: float) -> float:
        """The first tick strictly after ``moment``."""
        if self.every is not None:
            return (math.floor(moment / self.every) + 1) * self.every
        return float(croniter(self._expression, _local(moment, self.tz)).get_next(float))

    def latest_at(self, moment: float) -> float:
        """The last tick at or before ``moment``."""
        if self.every is not None:
            return math.floor(moment / self.every) * self.every
        # Cron ticks fall on whole seconds, and get_prev looks strictly before its start.
        return float(croniter(self._expression, _local(math.floor(moment) + 1, self.tz)).get_prev(float))

    @property
    def _expression(self) -> str:
        assert self.cron is not None  # an interval schedule returned before asking
        return self.cron

    def ticks_between(self, after: float, until: float) -> list[float]:
        """Every tick in ``(after, until]``, oldest first."""
        ticks: list[float] = []
        tick = self.next_after(after)
        while tick <= until:
            ticks.append(tick)
            tick = self.next_after(tick)
        return ticks


@dataclass(frozen=True, slots=True)
class LastTick:
    """A schedule's latest recorded tick: when it fell, the job it enqueued, and that job's state now."""

    tick: float
    job_id: str
    status: str | None
    """None when the job is gone (cleared)."""


def ticks_to_enqueue(schedule: Schedule, *, after: float, now: float) -> list[float]:
    """The ticks to enqueue now, oldest first, when every tick up to ``after`` was handled already.

    Ticks of the last ``LATE`` seconds all run; of older ones (missed: no worker ran), only the latest, and only
    with ``missed="latest"``.
    """
    on_time = schedule.ticks_between(max(after, now - LATE), now)
    if schedule.missed == "skip":
        return on_time
    latest_missed = schedule.latest_at(now - LATE)
    return ([latest_missed] if latest_missed > after else []) + on_time


def new_schedule(
    schedule: str | timedelta,
    *,
    task: str,
    name: str | None,
    args: Sequence[Any],
    kwargs: Mapping[str, Any] | None,
    tz: str | tzinfo | None,
    missed: Missed,
) -> Schedule:
    """A checked schedule; ValueError with a one-line reason for a bad expression, interval or time zone."""
    if missed not in MISSED:
        raise ValueError(f"missed must be one of {', '.join(MISSED)}, not {missed!r}")
    zone = _zone_name(tz)
    common: dict[str, Any] = {"name": name or task, "task": task, "tz": zone, "args": tuple(args),
                              "kwargs": dict(kwargs or {}), "missed": missed}  # fmt: skip
    if isinstance(schedule, timedelta):
        seconds = schedule.total_seconds()
        if seconds < 1 or seconds != int(seconds):
            raise ValueError(f"a periodic interval must be a whole number of seconds, at least 1, not {schedule}")
        if tz is not None:
            raise ValueError("tz applies to cron schedules; an interval counts seconds, whatever the zone")
        return Schedule(cron=None, every=int(seconds), **common)
    if not isinstance(schedule, str) or not croniter.is_valid(schedule):
        raise ValueError(f"not a cron expression: {schedule!r} (expected five fields, e.g. '*/5 * * * *')")
    return Schedule(cron=schedule, every=None, **common)


def _zone_name(tz: str | tzinfo | None) -> str:
    if tz is None:
        return "UTC"
    name = tz if isinstance(tz, str) else str(tz)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name such as 'Europe/Paris')") from None
    return name


def _local(moment: float, tz: str) -> datetime:
    """A unix time as an aware datetime in ``tz``: croniter then follows that zone's clock, summer time included."""
    return datetime.fromtimestamp(moment, ZoneInfo(tz))


@dataclass(frozen=True, slots=True)
class PeriodicStatus:
    """A schedule as ``jobq periodic list`` shows it: its last run (None: never) and its next."""

    schedule: Schedule
    last_run: datetime | None
    last_job: str | None
    last_status: str | None
    next_run: datetime


def statuses(schedules: Sequence[Schedule], last: Mapping[str, LastTick], *, now: float) -> list[PeriodicStatus]:
    """Each schedule's last and next run, by name."""
    shown = []
    for schedule in sorted(schedules, key=lambda s: s.name):
        tick = last.get(schedule.name)
        shown.append(PeriodicStatus(
            schedule, None if tick is None else _utc(tick.tick), None if tick is None else tick.job_id,
            None if tick is None else tick.status, _utc(schedule.next_after(now)),
        ))  # fmt: skip
    return shown


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, ZoneInfo("UTC"))
