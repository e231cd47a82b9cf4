"""Changes to many dead letters per request: replay and abandon by ids or by filter, and purge.

A request acts on at most ``limits.max_bulk`` dead letters, but for a replay by filter. By filter, an abandon
acts on one page and answers ``next_cursor``; the client sends the same request with that cursor until it is
null. A replay by filter is a redrive (``app.dlq.replay_many``): recorded with who started it, it replays every
match (unresolved ones unless forced or given a resolution) in this request and answers its ``redrive_id``.
While it runs, ``GET /api/redrives/{id}`` shows its progress and ``POST .../cancel`` stops it; a client that stops
waiting does not stop it. ``dry_run`` only counts. Every change goes through ``app.dlq``, one dead letter at a
time, so a racing operator or a second replay of the same entry is refused by the store exactly as from the CLI;
this module only reads the request and writes the core's report as JSON.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any

from starlette.responses import Response

from jobq.bulk import BulkReport, BulkResult
from jobq.job import DeadLetterId
from jobq.web.api.filters import DEAD_LETTER_FILTER, DEAD_LETTER_FILTERS, ID
from jobq.web.api.schemas import COUNT, object_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, JsonBody, Reply
from jobq.web.problems import Problem
from jobq.web.responses import ok
from jobq.web.values import Boolean, Field, Fields, Integer, ListOf, Moment, Text

TAG = "dead letters"
PURGE_FILTER = Fields(
    {name: Field(param.kind, param.description) for name, param in DEAD_LETTER_FILTERS.items() if name != "until"}
)
"""A purge's filters: ``older_than`` says until when."""


def _selection(limits_max: int, *, paged: bool = True, **options: Field) -> Fields:
    pages = {
        "limit": Field(Integer(1, limits_max), "With filter: how many to act on in this request."),
        "cursor": Field(ID, "With filter: continue after this id (next_cursor).", nullable=True),
    }
    return Fields(
        {
            "ids": Field(ListOf(ID, 1, limits_max), "These dead letters."),
            "filter": Field(DEAD_LETTER_FILTER, "Every dead letter matching these filters (as in listings)."),
            **(pages if paged else {}),
            "dry_run": Field(Boolean(), "Only count what matches."),
            **options,
        },
        one_of=("ids", "filter"),
    )


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    most = s.limits.max_bulk
    report = (Reply(200, "What matched and what happened to each.", ref("BulkReport")),)
    replay_body = _selection(
        most, paged=False, force=Field(Boolean(), "Also replay what was replayed already (unresolved only else).")
    )
    abandon_body = _selection(most, note=Field(Text(max_length=2000), "Why they were given up on."))
    purge_body = Fields({
        "older_than": Field(Moment(), "Only dead letters that failed before this: a duration ago (30d) or a time."),
        "filter": Field(PURGE_FILTER, "Only dead letters matching these filters."),
        "everything": Field(Boolean(), "Empty the DLQ (needed when neither older_than nor a filter is given)."),
        "dry_run": Field(Boolean(), "Only count what would be deleted."),
    })  # fmt: skip
    return [
        Endpoint(
            "POST", "/api/dlq/replay", "replayDeadLetters", f"Replay up to {most} dead letters by ids, or all "
            "matching a filter as a redrive", TAG, partial(replay_many, s), report,
            body=JsonBody(replay_body, "What to replay.", required=True),
        ),
        Endpoint(
            "POST", "/api/dlq/abandon", "abandonDeadLetters", f"Abandon up to {most} dead letters, by ids or filter",
            TAG, partial(abandon_many, s), report, body=JsonBody(abandon_body, "What to abandon.", required=True),
        ),
        Endpoint(
            "POST", "/api/dlq/purge", "purgeDeadLetters", "Delete dead letters by age and/or filter", TAG,
            partial(purge, s),
            (Reply(200, "How many were (or would be) deleted.",
                   object_of(dry_run={"type": "boolean"}, matched=COUNT, purged=COUNT)),),
            body=JsonBody(purge_body, "What to delete.", required=True),
        ),
    ]  # fmt: skip


def replay_many(s: Services, call: Call) -> Response:
    body = call.body
    force, dry_run = body.get("force", False), body.get("dry_run", False)
    if "filter" in body:
        redrive = s.app.dlq.replay_many(force=force, dry_run=dry_run, by=call.by, **body["filter"])
        report = BulkReport(redrive.matched, redrive.dry_run, redrive.results)
        return ok({**_report(report), "redrive_id": redrive.redrive_id, "state": redrive.state})
    report = s.app.dlq.replay_ids(_ids(body), force=force, by=call.by, dry_run=dry_run)
    return ok({**_report(report), "redrive_id": None, "state": None})


def abandon_many(s: Services, call: Call) -> Response:
    body = call.body
    options: dict[str, Any] = {"note": body.get("note"), "by": call.by, "dry_run": body.get("dry_run", False)}
    if "ids" in body:
        return ok(_report(s.app.dlq.abandon_ids(_ids(body), **options)))
    page = {"limit": body.get("limit", s.limits.max_bulk), "cursor": body.get("cursor")}
    return ok(_report(s.app.dlq.abandon_many(**options, **page, **{"resolution": "open", **body["filter"]})))


def _report(report: BulkReport) -> dict[str, Any]:
    return {
        "matched": report.matched, "dry_run": report.dry_run, "changed": report.changed,
        "results": [_result(result) for result in report.results], "next_cursor": report.next_cursor,
    }  # fmt: skip


def _result(result: BulkResult) -> dict[str, Any]:
    job = {"job_id": result.job_id} if result.job_id is not None else {}
    return {"dead_letter_id": result.dead_letter_id, "outcome": result.outcome, **job}


def purge(s: Services, call: Call) -> Response:
    body = call.body
    older_than: timedelta | datetime | None = body.get("older_than")
    filters = dict(body.get("filter", {}))
    if isinstance(older_than, datetime):
        filters["until"], older_than = older_than, None
    everything = body.get("everything", False)
    if older_than is None and not filters and not everything:
        raise Problem(422, "purge needs older_than or a filter (or everything: true to empty the DLQ)")
    if body.get("dry_run"):
        where = {**filters, "until": older_than} if older_than is not None else filters
        return ok({"dry_run": True, "matched": s.app.dlq.count(**where), "purged": 0})
    purged = s.app.dlq.purge(older_than, everything=everything, by=call.by, **filters)
    return ok({"dry_run": False, "matched": purged, "purged": purged})


def _ids(body: dict[str, Any]) -> list[DeadLetterId]:
    """The ``ids`` of a request body, as dead-letter ids."""
    return [DeadLetterId(text) for text in body["ids"]]
