"""The numbers operators watch: the ``stats()`` shape of SPEC section 3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobq.backends.contract import DeadLetterSummary, JobReader
from jobq.job import ERROR_CLASSES

DAY = 86_400.0


def queue_stats(jobs: JobReader, *, now: float) -> dict[str, dict[str, int]]:
    """``{queue: {queued, scheduled, running, succeeded, dead}}``."""
    return jobs.job_counts(now=now)


def hook_stats(by_state: dict[str, int]) -> dict[str, int]:
    """Hook deliveries by state: ``pending`` (waiting or being retried), ``delivered``, ``failed`` (given up)."""
    return {state: by_state.get(state, 0) for state in ("pending", "delivered", "failed")}


def dead_letter_stats(summary: DeadLetterSummary) -> dict[str, Any]:
    """``{"dlq": {...}, "by_class": {...}}`` from the store's raw counts."""
    resolutions = summary.by_resolution
    pending = resolutions.get("pending_recovery", 0)
    recovered = resolutions.get("recovered", 0)
    return {
        "dlq": {
            "total_failed": summary.total,
            "permanent_failures": summary.permanent,
            "last_24h": summary.recent,
            "avg_retries": round(summary.avg_attempts, 2),
            "pruned": summary.pruned,
            "recovery": {
                "total_in_recovery": summary.in_recovery,
                "pending_recovery": pending,
                "recovered": recovered,
                "abandoned": resolutions.get("abandoned", 0),
            },
        },
        "by_class": {name: summary.by_class.get(name, 0) for name in ERROR_CLASSES},
    }


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When the DLQ deserves a human: an alert fires when a value is above its threshold."""

    last_24h: float = 10
    avg_retries: float = 2.5
    pending_recovery: float = 5
    new_fingerprint_window: float = 3600.0
    """Seconds: a failure first seen this recently is new (0 turns the alert off)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One threshold crossed."""

    name: str
    value: float
    threshold: float
    detail: str = ""

    def __str__(self) -> str:
        text = f"{self.name} is {self.value:g}, above the threshold of {self.threshold:g}"
        return f"{text}: {self.detail}" if self.detail else text


def crossed(stats: dict[str, Any], thresholds: Thresholds) -> list[Alert]:
    """The thresholds that ``stats`` (the ``stats()`` shape) is above."""
    dlq = stats["dlq"]
    values = {
        "last_24h": dlq["last_24h"],
        "avg_retries": dlq["avg_retries"],
        "pending_recovery": dlq["recovery"]["pending_recovery"],
    }
    return [
        Alert(name, value, getattr(thresholds, name))
        for name, value in values.items()
        if value > getattr(thresholds, name)
    ]


def new_fingerprint_alert(new: list[tuple[str, float, int]]) -> list[Alert]:
    """One alert for every failure never seen before the window (none when there is none)."""
    if not new:
        return []
    shown = ", ".join(f"{fingerprint} ({count})" for fingerprint, _first, count in new[:5])
    more = f" and {len(new) - 5} more" if len(new) > 5 else ""
    return [Alert("new_fingerprint", len(new), 0, f"new failures {shown}{more}")]
