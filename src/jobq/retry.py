"""Backoff policies: the number of the attempt that just failed → seconds to wait before the next. Pure."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@runtime_checkable
class Backoff(Protocol):
    """How long to wait after a failed attempt before running the job again."""

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the 1-based ``attempt`` failed."""
        ...


def _check_seconds(name: str, value: float) -> None:
    # bool is an int, but `backoff=True` is a mistake, not one second.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


@dataclass(frozen=True)
class Exponential(Backoff):
    """Exponential backoff with a cap and, by default, full jitter."""

    base: float = 1.0
    factor: float = 2.0
    cap: float = 300.0
    jitter: bool = True
    rng: random.Random | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        _check_seconds("Exponential base", self.base)
        _check_seconds("Exponential cap", self.cap)
        if isinstance(self.factor, bool) or not (isinstance(self.factor, int | float) and self.factor >= 1):
            raise ValueError(f"Exponential factor must be a number >= 1, got {self.factor!r}")
        if not math.isfinite(self.factor):
            raise ValueError(f"Exponential factor must be finite, got {self.factor!r}")

    def ceiling(self, attempt: int) -> float:
        """The largest delay after ``attempt`` failed: min(cap, base * factor ** (attempt - 1))."""
        exponent = max(attempt, 1) - 1
        if self.cap <= self.base:
            return float(self.cap)
        if exponent == 0 or self.factor == 1 or self.base == 0:
            return float(self.base)
        # Decide "capped" in log space first: factor ** exponent overflows a float long before an
        # attempt number is absurd, and comparing an int with a float never overflows.
        if exponent >= math.log(self.cap / self.base, self.factor):
            return float(self.cap)
        return min(float(self.cap), self.base * self.factor**exponent)

    def delay(self, attempt: int) -> float:
        """uniform(0, ceiling) with jitter, else the ceiling itself."""
        ceiling = self.ceiling(attempt)
        if not self.jitter:
            return ceiling
        # Full jitter spreads retries of jobs that failed together (an outage) instead of bunching them.
        if self.rng is None:
            return random.uniform(0.0, ceiling)
        return self.rng.uniform(0.0, ceiling)


@dataclass(frozen=True)
class Fixed(Backoff):
    """The same delay after every failed attempt."""

    seconds: float

    def __post_init__(self) -> None:
        _check_seconds("Fixed seconds", self.seconds)

    def delay(self, attempt: int) -> float:
        """Always ``seconds``."""
        return float(self.seconds)


@dataclass(frozen=True)
class Custom(Backoff):
    """A user's function attempt → seconds, checked on every call."""

    function: Callable[[int], float]

    def delay(self, attempt: int) -> float:
        """What the function returns, refused when it is not a finite number >= 0."""
        value = self.function(attempt)
        name = getattr(self.function, "__qualname__", repr(self.function))
        _check_seconds(f"backoff {name}({attempt})", value)
        return float(value)


DEFAULT_BACKOFF: Backoff = Exponential()


def as_backoff(value: Backoff | Callable[[int], float] | float | None) -> Backoff:
    """Whatever a task was given as ``backoff=`` → a Backoff (None → the default exponential policy)."""
    if value is None:
        return DEFAULT_BACKOFF
    if isinstance(value, Backoff):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        _check_seconds("backoff", value)
        return Fixed(float(value))
    if callable(value):
        return Custom(value)
    raise TypeError(
        f"backoff must be a Backoff, a function attempt -> seconds, a number of seconds or None, "
        f"not {type(value).__name__}"
    )
