"""Delivering the outbox: hook events recorded with their dead letters, sent after commit, retried.

Workers call ``deliver_due`` (with their ``Outbox``: the store, the hooks, the clock) from a thread of their
own, so a slow or failing receiver never holds up jobs. Each entry is claimed for a while (one worker at a
time), handed to the sinks that do not have it yet, and then marked delivered, rescheduled as
``next_delivery`` decides, or failed for good. Delivery is at-least-once: a receiver de-duplicates on the
event id, which stays the same across retries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from jobq.backends.contract import OutboxStore
from jobq.clock import Clock
from jobq.hooks import GiveUp, HookEvent, HookKind, Hooks, RetryDelivery, event_for_dead_letter, next_delivery
from jobq.job import DeadLetter, DeadLetterId, OutboxEntry
from jobq.serialize import dead_letter_to_dict

log = logging.getLogger("jobq.hooks")

CLAIM_FOR = 120.0  # seconds an entry stays with the worker delivering it (well past any sink's timeout)
BATCH = 20
LAST_PASS_BATCH = 100
LAST_PASS_BUDGET = 5.0
"""Seconds a stopping worker gives its last deliveries in all: a hanging receiver must not keep it (issue 11)."""


@dataclass(frozen=True, slots=True)
class Outbox:
    """What delivering needs: the outbox rows, the hooks to hand them to, the clock, and the dead letters."""

    store: OutboxStore
    hooks: Hooks
    clock: Clock
    letter: Callable[[DeadLetterId], DeadLetter | None]
    """Reads a dead letter by id (for entries an older jobq wrote without one)."""


def deliver_due(box: Outbox, *, halt: threading.Event | None = None) -> int:
    """Deliver up to a batch of due entries until ``halt``; returns how many were tried.

    Entries are claimed one at a time, so that a worker stopping (or killed) holds no entry it has not tried:
    each claim counts an attempt, and a delivery to a hanging receiver can take the sink's whole timeout.
    """
    tried = 0
    while tried < BATCH and not (halt is not None and halt.is_set()):
        entries = box.store.claim_deliveries(now=box.clock(), lease=CLAIM_FOR, limit=1)
        if not entries:
            break
        _deliver(box, entries[0])
        tried += 1
    return tried


def deliver_last(box: Outbox, *, budget: float = LAST_PASS_BUDGET) -> int:
    """A stopping worker's last pass: what is due now, each entry tried once at most, within ``budget`` seconds.

    Sinks that can be bounded (webhooks) wait only for what is left of the budget. Entries the budget leaves
    untried are given back: still pending, due now, their attempt counts unchanged, for the next worker.
    Returns how many were tried.
    """
    deadline = time.monotonic() + budget
    entries = box.store.claim_deliveries(now=box.clock(), lease=CLAIM_FOR, limit=LAST_PASS_BATCH)
    for index, entry in enumerate(entries):
        left = deadline - time.monotonic()
        if left <= 0:
            box.store.release_deliveries([rest.id for rest in entries[index:]], now=box.clock())
            return index
        _deliver(box, entry, within=left)
    return len(entries)


def _deliver(box: Outbox, entry: OutboxEntry, *, within: float | None = None) -> None:
    event = _event(box, entry)
    if event is None:
        _finish(box, entry, "failed", entry.delivered_to, "its dead letter is gone (purged)")
        return
    waiting = [sink.name for sink in box.hooks.sinks if sink.name not in entry.delivered_to]
    results = box.hooks.deliver(event, only=waiting, within=within)
    done = (*entry.delivered_to, *(result.sink for result in results if result.status != "failed"))
    failed = [result for result in results if result.status == "failed"]
    if not failed:
        _finish(box, entry, "delivered", done, None)
        return
    error = "; ".join(f"{result.sink}: {result.error}" for result in failed)
    retry_after = max((result.retry_after for result in failed if result.retry_after), default=None)
    match next_delivery(entry.attempts, box.clock(), error, retry_after=retry_after):
        case RetryDelivery(at=at):
            _finish(box, entry, "pending", done, error, next_at=at)
        case GiveUp(reason=reason):
            log.error("Hook %s (%s) given up after %d attempts: %s", entry.id, entry.kind, entry.attempts, reason)
            _finish(box, entry, "failed", done, reason)


def _event(box: Outbox, entry: OutboxEntry) -> HookEvent | None:
    """The entry's event as it was written: an alert's, or a dead letter's from the letter written with it.

    An entry an older jobq wrote carries no letter: the letter as it is now is read instead (None once gone).
    Redaction happens later, in ``Hooks.deliver``: the hooks' redactor applies whenever the entry was written.
    """
    if entry.data is not None:
        return HookEvent(entry.id, cast(HookKind, entry.kind), entry.created_at, entry.data)
    letter = entry.letter
    if letter is None and entry.dead_letter_id:
        letter = box.letter(entry.dead_letter_id)
    if letter is None:
        return None
    return event_for_dead_letter(entry.id, cast(HookKind, entry.kind), entry.created_at, dead_letter_to_dict(letter))


def _finish(
    box: Outbox,
    entry: OutboxEntry,
    state: str,
    delivered_to: tuple[str, ...],
    error: str | None,
    *,
    next_at: float | None = None,
) -> None:
    box.store.finish_delivery(
        entry.id, state=state, next_at=box.clock() if next_at is None else next_at, delivered_to=delivered_to,
        error=error,
    )  # fmt: skip
