"""The pretend SMS provider of ``jobq demo``: a trimmed copy of the messaging example's ``MockProvider``.

``jobq demo`` must run from an installed package, without the repository, so it cannot import
``examples.messaging``; it keeps this small copy instead (same recipient patterns, same errors, same
messages), and tests/examples/test_demo.py checks that jobq classifies both alike.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Literal

Outcome = Literal["ok", "timeout", "rate_limited", "unavailable", "invalid_number", "server_error"]

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


class ProviderHTTPError(Exception):
    """The provider answered with an HTTP error; jobq reads ``status_code`` and ``headers['Retry-After']``."""

    def __init__(self, status_code: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.headers: Mapping[str, str] = headers or {}


class ProviderTimeout(TimeoutError):
    """The provider did not answer in time."""


class DemoProvider:
    """Answers by recipient pattern (the last outcome of a pattern repeats); ``down()`` starts an outage."""

    def __init__(self, *, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        self.sent: list[str] = []
        self.is_down = False
        self._requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def down(self) -> None:
        """Start an outage: every send times out."""
        self.is_down = True

    def up(self) -> None:
        """End the outage."""
        self.is_down = False

    def send(self, message_id: str, to: str, body: str) -> None:
        """Deliver the message (recorded in ``sent``) or raise the error its recipient's pattern calls for."""
        outcome = "timeout" if self.is_down else self._next_outcome(to)
        if outcome == "timeout":
            raise ProviderTimeout(f"the provider did not answer in time sending message {message_id}")
        if outcome != "ok":
            status, code, template = ERRORS[outcome]
            headers = {"Retry-After": f"{self.retry_after:g}"} if outcome in RETRY_AFTER_OUTCOMES else None
            raise ProviderHTTPError(status, code, template.format(to=to), headers=headers)
        with self._lock:
            self.sent.append(to)

    def _next_outcome(self, to: str) -> Outcome:
        with self._lock:
            seen = self._requests[to]
            self._requests[to] += 1
        outcomes = next((outcomes for prefix, outcomes in PATTERNS if to.startswith(prefix)), ("ok",))
        return outcomes[min(seen, len(outcomes) - 1)]
