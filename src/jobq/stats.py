"""The numbers operators watch: the ``stats()`` shape of SPEC section 3."""

from __future__ import annotations

from typing import Any

from jobq.backends.contract import DeadLetterSummary, JobReader
from jobq.job import ERROR_CLASSES

DAY = 86_400.0


def queue_stats(jobs: JobReader, *, now: float) -> dict[str, dict[str, int]]:
    """``{queue: {queued, scheduled, running, succeeded, dead}}``."""
    return jobs.job_counts(now=now)


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
            "recovery": {
                "total_in_recovery": pending + recovered,
                "pending_recovery": pending,
                "recovered": recovered,
                "abandoned": resolutions.get("abandoned", 0),
            },
        },
        "by_class": {name: summary.by_class.get(name, 0) for name in ERROR_CLASSES},
    }
