"""The audit trail: who replayed, abandoned or purged dead letters, and when — one letter's, and the whole log."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from starlette.responses import Response

from jobq.audit import AuditEntry
from jobq.job import DeadLetterId
from jobq.web.api.dead_letters import LETTER
from jobq.web.api.filters import paging, stored_filter_json
from jobq.web.api.schemas import STRING, object_of, page_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, Reply
from jobq.web.problems import Problem
from jobq.web.responses import ok

TAG = "audit"


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "GET", "/api/dead-letters/{dead_letter_id}/audit", "getDeadLetterAudit", "Who replayed or abandoned a "
            "dead letter, and when (oldest first)", TAG, partial(trail, s),
            (Reply(200, "Its audit trail, kept after the letter is purged.", object_of(
                dead_letter_id=STRING, entries={"type": "array", "items": ref("AuditEntry")})),),
            path_params=LETTER, errors=(404,),
        ),
        Endpoint(
            "GET", "/api/audit", "listAudit", "Every replay, abandon and purge, newest first", TAG, partial(log, s),
            (Reply(200, "One page of the audit log.", page_of("AuditEntry", "entries")),), query=paging(s.limits),
        ),
    ]  # fmt: skip


def audit_json(s: Services, entry: AuditEntry) -> dict[str, Any]:
    """An audit entry, its payloads, note and searched text redacted like every other response."""
    detail = dict(entry.detail)
    for name in ("payload", "original_payload"):
        if name in detail:
            detail[name] = s.redactor.payload(detail[name])
    if isinstance(detail.get("note"), str):
        detail["note"] = s.redactor.text(detail["note"])
    if isinstance(detail.get("filters"), Mapping):
        detail["filters"] = stored_filter_json(s.redactor, detail["filters"])
    return {
        "id": entry.id, "dead_letter_id": entry.dead_letter_id, "at": entry.at.isoformat(), "action": entry.action,
        "by": entry.by, "detail": detail,
    }  # fmt: skip


def trail(s: Services, call: Call) -> Response:
    dead_letter_id = DeadLetterId(call.path["dead_letter_id"])
    entries = s.app.dlq.audit_trail(dead_letter_id)
    if not entries and s.app.dlq.get(dead_letter_id) is None:
        raise Problem(404, f"no dead letter {dead_letter_id}")
    return ok({"dead_letter_id": dead_letter_id, "entries": [audit_json(s, entry) for entry in entries]})


def log(s: Services, call: Call) -> Response:
    limit = call.query["limit"]
    found = s.app.dlq.audit_log(limit=limit + 1, cursor=call.query.get("cursor"))
    next_cursor = found[limit - 1].id if len(found) > limit else None
    return ok({"entries": [audit_json(s, entry) for entry in found[:limit]], "next_cursor": next_cursor})
