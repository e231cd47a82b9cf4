"""The queue at a glance: health, stats, alerts, and the two endpoints of the original design.

``GET /api/queue/dlq/stats`` and ``GET /api/queue/dlq/failures`` keep their original shapes, times in unix
seconds, for the dashboards and scripts written against them.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial

from starlette.responses import Response

from jobq.job import DeadLetter
from jobq.web.api.schemas import COUNT, STRING, object_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, Param, Reply
from jobq.web.responses import ok
from jobq.web.values import Integer

TAG = "overview"


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "GET", "/health", "health", "Whether the server and its database answer (no token needed)", TAG,
            partial(health, s), (Reply(200, "Healthy.", object_of(status={"const": "ok"})),), public=True,
        ),
        Endpoint(
            "GET", "/api/stats", "stats", "Counts of the queues and the DLQ", TAG, partial(stats, s),
            (Reply(200, "The stats() shape.", ref("Stats")),),
        ),
        Endpoint(
            "GET", "/api/alerts", "alerts", "Alert thresholds crossed now", TAG, partial(alerts, s),
            (Reply(200, "The alerts (empty when healthy).", object_of(alerts={"type": "array", "items": object_of(
                name=STRING, value={"type": "number"}, threshold={"type": "number"})})),),
        ),
        Endpoint(
            "GET", "/api/queue/dlq/stats", "dlqStats", "DLQ stats (original shape)", TAG, partial(dlq_stats, s),
            (Reply(200, "The DLQ's counts.", object_of(dlq=ref("DlqStats"))),),
        ),
        Endpoint(
            "GET", "/api/queue/dlq/failures", "dlqFailures", "Recent failures, newest first (original shape)", TAG,
            partial(failures, s),
            (Reply(200, "The failures; count is how many are in this answer.", object_of(
                failures={"type": "array", "items": ref("Failure")}, count=COUNT),
                links={"GetFirst": ("getDeadLetter", "dead_letter_id", "$response.body#/failures/0/id")}),),
            query={"limit": Param(Integer(1, s.limits.max_page), "How many.", default=20)},
        ),
    ]  # fmt: skip


def health(s: Services, call: Call) -> Response:
    s.app.get_job("")  # one indexed read: the database answers (a StorageError is a 503)
    return ok({"status": "ok"})


def stats(s: Services, call: Call) -> Response:
    return ok(s.app.stats())


def alerts(s: Services, call: Call) -> Response:
    return ok({"alerts": [asdict(alert) for alert in s.app.alerts()]})


def dlq_stats(s: Services, call: Call) -> Response:
    return ok({"dlq": s.app.dlq.stats()["dlq"]})


def failures(s: Services, call: Call) -> Response:
    page = s.app.dlq.list(limit=call.query["limit"])
    return ok({"failures": [failure(s, letter) for letter in page], "count": len(page)})


def failure(s: Services, letter: DeadLetter) -> dict[str, object]:
    """A dead letter in the original ``failures`` shape."""
    return {
        "id": letter.id,
        "job_id": letter.job_id,
        "task": letter.task,
        "queue": letter.queue,
        "tenant": letter.tenant,
        "error_type": letter.error_type,
        "error_message": s.redactor.text(letter.error_message),
        "error_class": letter.error_class,
        "resolution": letter.resolution,
        "retry_count": letter.attempts,
        "created_at": letter.created_at.timestamp() if letter.created_at else None,
        "completed_at": letter.failed_at.timestamp(),
    }
