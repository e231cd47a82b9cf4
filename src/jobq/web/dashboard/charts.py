"""The DLQ's trend as bar charts drawn on the server: dead letters per hour and per day.

Each bar is one ``app.dlq.count(since=, until=)`` — an index range count — so a chart costs a few dozen
small queries whatever the DLQ's size, and never loads a letter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from jobq.app import App

HOUR = 3600
DAY = 86_400
WIDTH = 720
HEIGHT = 120
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    """One bucket, placed in the chart's coordinates."""

    start: datetime
    end: datetime
    count: int
    x: float
    y: float
    width: float
    height: float
    label: str
    """The axis label under it ("" for most bars)."""
    title: str
    """The tooltip."""
    since: str
    until: str
    """The bucket as the dead-letter list's filter values."""


@dataclass(frozen=True, slots=True)
class Chart:
    """Bars, the largest count (the top of the scale) and the total."""

    bars: tuple[Bar, ...]
    peak: int
    total: int
    width: int = WIDTH
    height: int = HEIGHT


def hourly(app: App, *, hours: int = 24) -> Chart:
    """Dead letters per hour over the last ``hours`` hours (the last bar is the hour under way)."""
    return _chart(app, size=HOUR, buckets=hours, label=_hour_label, title="%Y-%m-%d %H:00")


def daily(app: App, *, days: int = 28) -> Chart:
    """Dead letters per UTC day over the last ``days`` days (the last bar is today)."""
    return _chart(app, size=DAY, buckets=days, label=_day_label, title="%a %Y-%m-%d")


def _chart(app: App, *, size: int, buckets: int, label: Callable[[datetime, int], str], title: str) -> Chart:
    first = (int(app.clock()) // size - (buckets - 1)) * size
    starts = [first + index * size for index in range(buckets)]
    counts = [app.dlq.count(since=_utc(start), until=_utc(start + size)) for start in starts]
    peak = max(counts, default=0)
    slot = WIDTH / buckets
    bars = []
    for index, (start, count) in enumerate(zip(starts, counts, strict=True)):
        height = 0.0 if peak == 0 else max(1.5 if count else 0.0, (HEIGHT - 4) * count / peak)
        moment = _utc(start)
        bars.append(Bar(
            start=moment, end=_utc(start + size), count=count, x=round(index * slot + GAP / 2, 2),
            y=round(HEIGHT - height, 2), width=round(slot - GAP, 2), height=round(height, 2),
            label=label(moment, index), title=f"{moment.strftime(title)} UTC: {count:,} dead letters",
            since=_filter_time(moment), until=_filter_time(_utc(start + size)),
        ))  # fmt: skip
    return Chart(tuple(bars), peak, sum(counts))


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _filter_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _hour_label(moment: datetime, index: int) -> str:
    return moment.strftime("%H:00") if index % 3 == 0 else ""


def _day_label(moment: datetime, index: int) -> str:
    return moment.strftime("%b %d") if index % 7 == 0 else ""
