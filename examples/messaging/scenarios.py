"""How the fake provider behaves, shared by ``MockProvider`` (in process) and the fake HTTP server.

An outcome is decided per request, in this order: an explicit script for the recipient (its outcomes in
turn, the last one repeating), then the recipient's pattern (below), then a seeded random draw by rate.

Recipient patterns (fictional ``+1 555`` numbers; the three digits after ``555`` say what happens):

====================  ============================================================
``+1555000…``         400 ``invalid_number``, every time (so is anything not E.164)
``+1555429…``         429 ``rate_limited`` with ``Retry-After`` once, then delivered
``+1555503…``         503 ``unavailable`` with ``Retry-After`` once, then delivered
``+1555500…``         500 ``internal_error``, every time (a provider bug)
``+1555408…``         no answer in time (a timeout), every time
anything else         delivered
====================  ============================================================
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Literal

Outcome = Literal["ok", "timeout", "rate_limited", "unavailable", "invalid_number", "server_error"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "timeout", "rate_limited", "unavailable", "invalid_number", "server_error")

# outcome → (HTTP status, error code, message template); "ok" and "timeout" have no error reply.
ERRORS: Mapping[Outcome, tuple[int, str, str]] = {
    "invalid_number": (400, "invalid_number", "{to} is not a valid mobile number"),
    "rate_limited": (429, "rate_limited", "too many requests, slow down"),
    "server_error": (500, "internal_error", "the provider failed while sending to {to}"),
    "unavailable": (503, "unavailable", "the provider is overloaded, try again later"),
}
RETRY_AFTER_OUTCOMES = frozenset({"rate_limited", "unavailable"})

PATTERNS: tuple[tuple[str, tuple[Outcome, ...]], ...] = (
    ("+1555000", ("invalid_number",)),
    ("+1555429", ("rate_limited", "ok")),
    ("+1555503", ("unavailable", "ok")),
    ("+1555500", ("server_error",)),
    ("+1555408", ("timeout",)),
)
E164 = re.compile(r"\+[1-9]\d{6,14}")


def pattern_outcomes(to: str) -> tuple[Outcome, ...] | None:
    """The outcomes the recipient's pattern scripts, or None when it has no pattern."""
    if not E164.fullmatch(to):
        return ("invalid_number",)
    return next((outcomes for prefix, outcomes in PATTERNS if to.startswith(prefix)), None)


class Script:
    """Decides each request's outcome; thread-safe, reproducible for a given seed."""

    def __init__(
        self,
        script: Mapping[str, Sequence[Outcome]] | None = None,
        *,
        rates: Mapping[Outcome, float] | None = None,
        seed: int = 0,
        patterns: bool = True,
    ) -> None:
        self.script = {to: tuple(outcomes) for to, outcomes in (script or {}).items()}
        for to, outcomes in self.script.items():
            if not outcomes:
                raise ValueError(f"script for {to}: give at least one outcome")
            _check(outcomes, f"script for {to}")
        self.rates = dict(rates or {})
        _check(tuple(self.rates), "rates")
        if sum(self.rates.values()) > 1 or any(rate < 0 for rate in self.rates.values()):
            raise ValueError(f"rates must be >= 0 and add up to at most 1, got {self.rates}")
        self.patterns = patterns
        self.requests: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def next_outcome(self, to: str) -> Outcome:
        """The outcome of the next request for ``to`` (counts it)."""
        with self._lock:
            seen = self.requests[to]
            self.requests[to] += 1
            outcomes = self.script.get(to) or (pattern_outcomes(to) if self.patterns else None)
            if outcomes:
                return outcomes[min(seen, len(outcomes) - 1)]
            return self._draw()

    def _draw(self) -> Outcome:
        point = self._random.random()
        for outcome, rate in self.rates.items():
            if point < rate:
                return outcome
            point -= rate
        return "ok"


def _check(outcomes: Sequence[str], what: str) -> None:
    unknown = [outcome for outcome in outcomes if outcome not in OUTCOMES]
    if unknown:
        raise ValueError(f"{what}: expected outcomes among {', '.join(OUTCOMES)}, got {list(outcomes)}")
