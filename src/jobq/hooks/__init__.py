"""Hooks: tell the outside world when a job dies (``on_dead``), its owner when their input was wrong
(``notify``), and operators when something is broken (``alert``) — through logging, a Python callable or a
signed webhook, with PII redacted first.

The core records events in an outbox in the same transaction as the dead-lettering and delivers them after
commit with ``Hooks.deliver``, retrying failed sinks as ``next_delivery`` decides: a failing hook never
loses or blocks a dead letter, and delivery is at-least-once (receivers de-duplicate on the event id).

    hooks = Hooks([LoggingSink(), WebhookSink("https://ops.example/jobq", secret=..., kinds=["alert"])])
    app = jobq.App("sqlite:///jobq.db", hooks=hooks)
"""

from jobq.hooks.delivery import (
    DELIVERY_BACKOFF,
    MAX_DELIVERY_ATTEMPTS,
    Delivery,
    GiveUp,
    Hooks,
    RetryDelivery,
    SinkResult,
    SinkStatus,
    next_delivery,
)
from jobq.hooks.events import (
    HOOK_KINDS,
    HookEvent,
    HookKind,
    alert_event,
    event_for_dead_letter,
    events_for_dead_letter,
    kinds_for_class,
)
from jobq.hooks.sinks import CallableSink, DeliveryError, LoggingSink, Sink
from jobq.hooks.webhook import WebhookSink, sign, verify_signature

__all__ = [
    "DELIVERY_BACKOFF",
    "HOOK_KINDS",
    "MAX_DELIVERY_ATTEMPTS",
    "CallableSink",
    "Delivery",
    "DeliveryError",
    "GiveUp",
    "HookEvent",
    "HookKind",
    "Hooks",
    "LoggingSink",
    "RetryDelivery",
    "Sink",
    "SinkResult",
    "SinkStatus",
    "WebhookSink",
    "alert_event",
    "event_for_dead_letter",
    "events_for_dead_letter",
    "kinds_for_class",
    "next_delivery",
    "sign",
    "verify_signature",
]
