"""``MockProvider``: the fake provider in process — no network, failures by script, pattern or rate."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence

from examples.messaging.provider import (
    Message,
    ProviderHTTPError,
    ProviderTimeout,
    Receipt,
)
from examples.messaging.scenarios import ERRORS, RETRY_AFTER_OUTCOMES, Outcome, Script


class MockProvider:
    """Sends nothing; answers like the fake provider server would, raising the same errors as ``HttpProvider``.

    >>> provider = MockProvider(script={"+15551230001": ["rate_limited", "ok"]}, rates={"timeout": 0.05}, seed=7)
    >>> provider.down()   # an outage: every send times out until provider.up()
    """

    def __init__(
        self,
        *,
        script: Mapping[str, Sequence[Outcome]] | None = None,
        rates: Mapping[Outcome, float] | None = None,
        seed: int = 0,
        patterns: bool = True,
        retry_after: float = 1.0,
    ) -> None:
        self.outcomes = Script(script, rates=rates, seed=seed, patterns=patterns)
        self.retry_after = retry_after
        self.sent: list[Message] = []
        self.is_down = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def down(self) -> None:
        """Start an outage: every send times out."""
        self.is_down = True

    def up(self) -> None:
        """End the outage."""
        self.is_down = False

    def send(self, message: Message) -> Receipt:
        """Deliver ``message`` (recorded in ``sent``) or raise the error its outcome calls for."""
        outcome: Outcome = "timeout" if self.is_down else self.outcomes.next_outcome(message.to)
        if outcome == "timeout":
            raise ProviderTimeout(f"the provider did not answer in time sending message {message.id}")
        if outcome != "ok":
            status, code, template = ERRORS[outcome]
            headers = {"Retry-After": f"{self.retry_after:g}"} if outcome in RETRY_AFTER_OUTCOMES else None
            raise ProviderHTTPError(status, code, template.format(to=message.to), headers=headers)
        with self._lock:
            self.sent.append(message)
            provider_id = f"mock-{next(self._ids)}"
        return Receipt(message_id=message.id, provider_id=provider_id, status="accepted")
