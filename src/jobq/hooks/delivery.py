"""Delivering an event to every sink, and deciding when to try again: decisions as values.

The outbox (in the core) records events in the dead-lettering transaction and, after commit, hands each to
``Hooks.deliver``. Every sink gets its own result, so one failing sink neither blocks the others nor makes
them deliver twice: retry with ``only=`` the sinks that failed, at the time ``next_delivery`` returns.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from typing import Literal

from jobq.classify import retry_after
from jobq.clock import system_clock
from jobq.errors import JobqError
from jobq.hooks.events import HookEvent
from jobq.hooks.sinks import BoundedSink, DeliveryError, Sink
from jobq.redact import Redactor
from jobq.retry import Backoff, Exponential

MAX_DELIVERY_ATTEMPTS = 12
DELIVERY_BACKOFF: Backoff = Exponential(base=2.0, factor=2.0, cap=600.0)
"""Full jitter between 0 and 2 s, 4 s, 8 s... up to 10 minutes."""
MAX_RETRY_AFTER = 3600.0
"""A receiver's ``Retry-After`` is honoured up to an hour."""


@dataclass(frozen=True, slots=True)
class RetryDelivery:
    """Try again at ``at`` (unix seconds)."""

    at: float


@dataclass(frozen=True, slots=True)
class GiveUp:
    """Stop trying; ``reason`` says why, for the outbox and the operator."""

    reason: str


Delivery = RetryDelivery | GiveUp


def next_delivery(
    attempts: int,
    now: float,
    error: str,
    *,
    max_attempts: int = MAX_DELIVERY_ATTEMPTS,
    backoff: Backoff = DELIVERY_BACKOFF,
    retry_after: float | None = None,
) -> Delivery:
    """What to do after the ``attempts``-th failed delivery of an event (1-based), failing with ``error``.

    >>> next_delivery(12, now=0.0, error="HTTP 500")
    GiveUp(reason='gave up after 12 failed deliveries; last: HTTP 500')
    """
    if attempts < 1 or max_attempts < 1:
        raise JobqError(f"attempts and max_attempts count from 1, got {attempts} and {max_attempts}")
    if attempts >= max_attempts:
        return GiveUp(f"gave up after {attempts} failed deliveries; last: {error}")
    delay = backoff.delay(attempts)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return RetryDelivery(at=now + delay)


SinkStatus = Literal["delivered", "failed", "skipped"]


@dataclass(frozen=True, slots=True)
class SinkResult:
    """What happened to one event at one sink."""

    sink: str
    status: SinkStatus
    error: str | None = None
    """One line, redacted: what the sink raised."""
    retry_after: float | None = None
    """Seconds the sink asked us to wait (an HTTP ``Retry-After``, a ``jobq.Retry(after=)``)."""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether nothing is left to do for this sink (delivered, or the event is not of a kind it wants)."""
        return self.status != "failed"


_ERROR_LIMIT = 500


class Hooks:
    """The sinks events go to, and the redactor every event passes first.

    Built by users and given to the app: ``jobq.App(url, hooks=Hooks([LoggingSink(), WebhookSink(...)]))``.
    """

    def __init__(self, sinks: Iterable[Sink] = (), *, redactor: Redactor | None = None) -> None:
        self._sinks: tuple[Sink, ...] = ()
        self.redactor = redactor if redactor is not None else Redactor()
        """The default hides PII: pass ``Redactor.none()`` to send events as they are."""
        for sink in sinks:
            self.add(sink)

    @property
    def sinks(self) -> tuple[Sink, ...]:
        """The sinks, in the order they receive events."""
        return self._sinks

    def add(self, sink: Sink) -> None:
        """Add a sink; its name must be new here (results and retries refer to sinks by name)."""
        if not isinstance(sink, Sink):
            raise JobqError(f"a hook sink needs a name and deliver(event), not {type(sink).__name__}")
        if any(existing.name == sink.name for existing in self._sinks):
            raise JobqError(f"a hook sink named {sink.name!r} is there already: give this one another name=")
        self._sinks = (*self._sinks, sink)  # a new tuple: a delivery running meanwhile keeps its own

    def deliver(
        self, event: HookEvent, *, only: Collection[str] | None = None, within: float | None = None
    ) -> list[SinkResult]:
        """Redact the event, then hand it to each sink (or to those named in ``only``); never raises for a sink.

        One result per sink tried, in order. A sink whose ``kinds`` leave this event out is ``skipped``.
        ``within``: seconds all of them may take together, for the sinks that can be bounded (``BoundedSink``).
        """
        sinks = self._sinks if only is None else tuple(sink for sink in self._sinks if sink.name in only)
        redacted = replace(event, data=self.redactor.record(event.data))
        deadline = None if within is None else time.monotonic() + within
        return [self._deliver(sink, redacted, deadline) for sink in sinks]

    def _deliver(self, sink: Sink, event: HookEvent, deadline: float | None) -> SinkResult:
        kinds = getattr(sink, "kinds", None)
        if kinds is not None and event.kind not in kinds:
            return SinkResult(sink.name, "skipped")
        started = time.monotonic()
        if deadline is not None and isinstance(sink, BoundedSink):
            sink = sink.within(deadline - started)
        try:
            sink.deliver(event)
        except Exception as exc:  # noqa: BLE001 - a user's sink may raise anything; it must not stop the others
            message = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            return SinkResult(
                sink.name,
                "failed",
                error=self._one_line(message),
                retry_after=retry_after(exc, system_clock()),
                duration=time.monotonic() - started,
            )
        return SinkResult(sink.name, "delivered", duration=time.monotonic() - started)

    def _one_line(self, message: str) -> str:
        text = self.redactor.text(" ".join(message.split()) or "(no message)")
        return text if len(text) <= _ERROR_LIMIT else text[: _ERROR_LIMIT - 1] + "…"
