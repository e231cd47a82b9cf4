"""The options of an enqueue (queue, tenant, priority, when…), checked once per call with a one-line error:
a value of the wrong type must not reach the database, where it would fail as a storage error, or be stored
as a different type on one backend and refused by the other."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from jobq.clock import to_seconds
from jobq.errors import OptionError

Delay = float | timedelta | None


def check_names(**names: object) -> None:
    """``queue``, ``tenant``, ``key``, ``unique_key``: None or text."""
    for option, value in names.items():
        if value is not None and not isinstance(value, str):
            raise OptionError(f"{option} must be a str, not {type(value).__name__} ({value!r:.40})")


def check_numbers(*, priority: object, max_attempts: object) -> None:
    """``priority`` an int; ``max_attempts`` None or an int of at least 1."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise OptionError(f"priority must be an int, not {type(priority).__name__} ({priority!r:.40})")
    if max_attempts is not None and (isinstance(max_attempts, bool) or not isinstance(max_attempts, int)):
        raise OptionError(f"max_attempts must be an int, not {type(max_attempts).__name__} ({max_attempts!r:.40})")
    if max_attempts is not None and max_attempts < 1:
        raise OptionError(f"max_attempts must be at least 1, not {max_attempts}")


def due_time(now: float, delay: object, run_at: object) -> float:
    """When a job becomes due: ``now`` plus ``delay`` (seconds or a timedelta), or ``run_at`` (a datetime)."""
    if delay is not None and run_at is not None:
        raise OptionError("pass delay or run_at, not both")
    if run_at is not None:
        if not isinstance(run_at, datetime):
            raise OptionError(f"run_at must be a datetime, not {type(run_at).__name__} ({run_at!r:.40})")
        return to_seconds(run_at)
    if delay is None:
        return now
    if isinstance(delay, timedelta):
        seconds = delay.total_seconds()
    elif isinstance(delay, int | float) and not isinstance(delay, bool):
        seconds = float(delay)
    else:
        raise OptionError(f"delay must be seconds or a timedelta, not {type(delay).__name__} ({delay!r:.40})")
    if not math.isfinite(seconds) or seconds < 0:
        raise OptionError(f"delay must be a finite number of seconds, not negative: {delay!r}")
    return now + seconds
