"""The one clock every jobq process on a host reads: wall time in unix seconds.

All processes on a machine share the system clock, so leases written by one worker are compared with
the same source by another. A step of the clock can make a lease look expired early or late; fencing
tokens keep that safe (a late worker cannot overwrite the new owner's outcome). Tests inject a
``Clock`` to move time without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]

system_clock: Clock = time.time


def to_datetime(seconds: float) -> datetime:
    """Unix seconds → an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def to_seconds(moment: datetime) -> float:
    """An aware (or naive UTC) datetime → unix seconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
