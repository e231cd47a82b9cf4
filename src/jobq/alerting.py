"""Alerts the workers raise by themselves: thresholds crossed and failures never seen before, sent through the
hooks as ``alert`` events — once per storm, not once per evaluation.

Any worker with hooks evaluates every ``Alerting.every`` seconds. The database remembers the storms: an alert
fires when it becomes crossed and then says nothing until it has stayed clear for ``Alerting.quiet`` seconds
(so a flapping alert is one message too). Each new fingerprint is an alert of its own
(``new_fingerprint:<fingerprint>``), and all that fire in one evaluation make one message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobq.backends.contract import AlertStore, DeadLetterFilter
from jobq.clock import Clock
from jobq.hooks.events import alert_event
from jobq.job import DeadLetterGroup
from jobq.stats import DAY, Alert, Thresholds, crossed, dead_letter_stats

log = logging.getLogger("jobq.alerts")

NEW_FINGERPRINT = "new_fingerprint"
NEW_FINGERPRINTS_SHOWN = 20  # an alert names at most this many new failures; the count says how many there were


@dataclass(frozen=True, slots=True)
class Alerting:
    """When workers evaluate alerts, against which thresholds, and how often one alert may speak."""

    thresholds: Thresholds = field(default_factory=Thresholds)
    every: float = 60.0
    """Seconds between evaluations by each worker."""
    quiet: float = 3600.0
    """Seconds an alert must stay clear before it may fire again: until then, it is the same storm."""
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.every <= 0 or self.quiet < 0:
            raise ValueError(f"every must be positive and quiet not negative, not {self.every!r} and {self.quiet!r}")


def raise_alerts(store: AlertStore, alerting: Alerting, *, clock: Clock) -> list[str]:
    """Evaluate now; the alerts that fire go to the outbox as ``alert`` events. Returns their names."""
    now = clock()
    stats = dead_letter_stats(store.dead_summary(since=clock() - DAY))  # what ``app.dlq.stats()`` says
    above = {alert.name: alert for alert in crossed(stats, alerting.thresholds)}
    window = alerting.thresholds.new_fingerprint_window
    new = store.new_fingerprints(since=now - window) if window > 0 else []
    names = [*above, *(f"{NEW_FINGERPRINT}:{fingerprint}" for fingerprint, _first, _count in new)]
    samples = _samples(store, clock() - window) if new else {}

    def compose(fired: list[str]) -> list[Mapping[str, Any]]:
        events: list[Mapping[str, Any]] = [_threshold_event(above[name], now) for name in fired if name in above]
        fresh = [name.partition(":")[2] for name in fired if name.startswith(f"{NEW_FINGERPRINT}:")]
        if fresh:
            events.append(_new_failures_event(fresh, samples, now))
        return events

    fired = store.fire_alerts(names, now=now, quiet=alerting.quiet, compose=compose)  # also clears the rest
    for name in fired:
        log.warning("Alert: %s", above[name] if name in above else f"new failure {name.partition(':')[2]}")
    return fired


def _samples(store: AlertStore, since: float) -> dict[str, DeadLetterGroup]:
    groups = store.group_dead(DeadLetterFilter(since=since), by="fingerprint", limit=500)
    return {group.value: group for group in groups if group.value is not None}


def _threshold_event(alert: Alert, now: float) -> dict[str, Any]:
    return alert_event(alert.name, str(alert), value=alert.value, threshold=alert.threshold, now=now).data


def _new_failures_event(
    fingerprints: Sequence[str], samples: Mapping[str, DeadLetterGroup], now: float
) -> dict[str, Any]:
    shown = [_failure(fingerprint, samples.get(fingerprint)) for fingerprint in fingerprints[:NEW_FINGERPRINTS_SHOWN]]
    summary = "; ".join(f"{item['error_type']}: {item['error_message']} ({item['letters']})" for item in shown)
    more = f" and {len(fingerprints) - len(shown)} more" if len(fingerprints) > len(shown) else ""
    count = len(fingerprints)
    message = f"{count} new failure{'s' if count != 1 else ''} never seen before: {summary}{more}"
    data = alert_event(NEW_FINGERPRINT, message, value=count, now=now).data
    return {**data, "fingerprints": shown}


def _failure(fingerprint: str, group: DeadLetterGroup | None) -> dict[str, Any]:
    if group is None:  # purged in between: the fingerprint is all there is to say
        return {"fingerprint": fingerprint, "error_type": "?", "error_message": "", "letters": 0, "sample_id": None}
    first_line = group.sample_message.strip().split("\n", 1)[0][:200]
    return {"fingerprint": fingerprint, "error_type": group.sample_error_type, "error_message": first_line,
            "letters": group.count, "sample_id": group.sample_id}  # fmt: skip
