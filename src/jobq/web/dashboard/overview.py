"""The overview: alerts, the DLQ's numbers and trend, the queues, the workers' counters, new failures."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from jobq.job import DeadLetterGroup
from jobq.stats import crossed
from jobq.tally import Metrics
from jobq.web.dashboard import charts
from jobq.web.dashboard.board import Board, Form

STATES = ("queued", "scheduled", "running", "succeeded", "dead", "cancelled")
COUNTERS = ("processed", "succeeded", "failed", "dead_lettered", "replayed")
COUNTER_LABELS = {name: "dead" if name == "dead_lettered" else name for name in COUNTERS}
ALERT_LABELS = {
    "last_24h": "Dead letters in the last 24 hours", "avg_retries": "Average retries per dead letter",
    "pending_recovery": "Dead letters pending recovery",
}  # fmt: skip
NEW_WINDOW = timedelta(hours=24)
NEW_CANDIDATES = 20


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """One queue's counters as the workers kept them, with mean duration and wait."""

    queue: str
    counters: dict[str, float]
    mean_duration: float | None
    mean_wait: float | None


def page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/``."""
    app = board.app
    stats = app.stats()  # alerts are judged on these same numbers (app.alerts() would count them all again)
    paused = {pause.queue: pause for pause in app.paused_queues()}
    queues = {**{name: {} for name in paused}, **stats["queues"]}  # a paused queue with no job still shows
    totals = {state: sum(counts.get(state, 0) for counts in queues.values()) for state in STATES}
    return board.pages.render(
        request, "overview.html", nav="overview", stats=stats, dlq=stats["dlq"], queues=queues, totals=totals,
        states=STATES, alerts=crossed(stats, board.thresholds), thresholds=board.thresholds,
        hourly=charts.hourly(app), daily=charts.daily(app), workers=worker_rows(app.metrics()),
        counters=COUNTERS, counter_labels=COUNTER_LABELS, alert_labels=ALERT_LABELS, new_failures=new_failures(board),
        paused=paused, periodic=app.periodic_status(),
    )  # fmt: skip


def worker_rows(metrics: Metrics) -> list[WorkerRow]:
    """The counters and histogram means of ``app.metrics()``, one row per queue."""
    queues = sorted({queue for _, queue in metrics.counters} | {queue for _, queue in metrics.histograms})
    rows = []
    for queue in queues:
        duration = metrics.histograms.get(("job_duration_seconds", queue))
        wait = metrics.histograms.get(("queue_wait_seconds", queue))
        rows.append(WorkerRow(
            queue=queue, counters={name: metrics.counters.get((name, queue), 0.0) for name in COUNTERS},
            mean_duration=duration.sum / duration.count if duration and duration.count else None,
            mean_wait=wait.sum / wait.count if wait and wait.count else None,
        ))  # fmt: skip
    return rows


def new_failures(board: Board) -> list[DeadLetterGroup]:
    """Fingerprints that failed in the last day and never before it: failures nobody has seen yet.

    The groups of the last day, each checked against its whole history (one indexed group query each).
    """
    recent = board.app.dlq.groups("fingerprint", limit=NEW_CANDIDATES, since=NEW_WINDOW)
    fresh = []
    for group in recent:
        if group.value is None:
            continue
        (whole,) = board.app.dlq.groups("fingerprint", limit=1, fingerprint=group.value) or (group,)
        if whole.first_seen >= group.first_seen:
            fresh.append(whole)
    messages = board.redactor.texts([group.sample_message for group in fresh])
    return [replace(group, sample_message=message) for group, message in zip(fresh, messages, strict=True)]
