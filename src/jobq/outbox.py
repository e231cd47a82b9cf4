"""Delivering the outbox: hook events recorded with their dead letters, sent after commit, retried.

Workers call ``deliver_due`` from a thread of their own, so a slow or failing receiver never holds up jobs.
Each entry is claimed for a while (one worker at a time), handed to the sinks that do not have it yet, and
then marked delivered, rescheduled as ``next_delivery`` decides, or failed for good. Delivery is
at-least-once: a receiver de-duplicates on the event id, which stays the same across retries.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from jobq.hooks import GiveUp, HookEvent, HookKind, Hooks, RetryDelivery, event_for_dead_letter, next_delivery
from jobq.job import OutboxEntry
from jobq.serialize import dead_letter_to_dict

if TYPE_CHECKING:
    from jobq.app import App

log = logging.getLogger("jobq.hooks")

CLAIM_FOR = 120.0  # seconds an entry stays with the worker delivering it (well past any sink's timeout)
BATCH = 20


def deliver_due(app: App, hooks: Hooks) -> int:
    """Deliver the due outbox entries once each; returns how many were tried."""
    entries = app.backend.claim_deliveries(now=app.clock(), lease=CLAIM_FOR, limit=BATCH)
    for entry in entries:
        _deliver(app, hooks, entry)
    return len(entries)


def _deliver(app: App, hooks: Hooks, entry: OutboxEntry) -> None:
    event = _event(app, entry)
    if event is None:
        _finish(app, entry, "failed", entry.delivered_to, "its dead letter is gone (purged)")
        return
    waiting = [sink.name for sink in hooks.sinks if sink.name not in entry.delivered_to]
    results = hooks.deliver(event, only=waiting)
    done = (*entry.delivered_to, *(result.sink for result in results if result.status != "failed"))
    failed = [result for result in results if result.status == "failed"]
    if not failed:
        _finish(app, entry, "delivered", done, None)
        return
    error = "; ".join(f"{result.sink}: {result.error}" for result in failed)
    retry_after = max((result.retry_after for result in failed if result.retry_after), default=None)
    match next_delivery(entry.attempts, app.clock(), error, retry_after=retry_after):
        case RetryDelivery(at=at):
            _finish(app, entry, "pending", done, error, next_at=at)
        case GiveUp(reason=reason):
            log.error("Hook %s (%s) given up after %d attempts: %s", entry.id, entry.kind, entry.attempts, reason)
            _finish(app, entry, "failed", done, reason)


def _event(app: App, entry: OutboxEntry) -> HookEvent | None:
    """The entry's event: an alert's as recorded, a dead letter's as the letter is now (None once it is gone)."""
    if entry.data is not None:
        return HookEvent(entry.id, cast(HookKind, entry.kind), entry.created_at, entry.data)
    letter = app.dlq.get(entry.dead_letter_id) if entry.dead_letter_id else None
    if letter is None:
        return None
    return event_for_dead_letter(entry.id, cast(HookKind, entry.kind), entry.created_at, dead_letter_to_dict(letter))


def _finish(
    app: App,
    entry: OutboxEntry,
    state: str,
    delivered_to: tuple[str, ...],
    error: str | None,
    *,
    next_at: float | None = None,
) -> None:
    app.backend.finish_delivery(
        entry.id, state=state, next_at=app.clock() if next_at is None else next_at, delivered_to=delivered_to,
        error=error,
    )  # fmt: skip
