"""Redrives — replays by filter, recorded: list them, follow one's progress and outcome, cancel it, resume it.

A resume answers at once: its run goes on in a thread of the server (``jobq.web.resume``), 200 when it ended
within a second, else 202 with the redrive's URL to follow its progress at.
"""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from typing import Any

from starlette.responses import Response

from jobq.redrive import Redrive, RedriveId
from jobq.web.api.filters import ID, paging, stored_filter_json
from jobq.web.api.schemas import page_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, Param, Reply
from jobq.web.problems import Problem
from jobq.web.responses import ok
from jobq.web.resume import resume_in_background

TAG = "redrives"
REDRIVE = {"redrive_id": Param(ID, "The redrive's id (a replay by filter answers it).")}


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "GET", "/api/redrives", "listRedrives", "Redrives (replays by filter), newest first", TAG,
            partial(list_, s), (Reply(200, "One page of redrives.", page_of("Redrive", "redrives")),),
            query=paging(s.limits),
        ),
        Endpoint(
            "GET", "/api/redrives/{redrive_id}", "getRedrive", "One redrive: its progress, and per fingerprint "
            "what became of its replays", TAG, partial(get, s),
            (Reply(200, "The redrive and its outcome.", ref("RedriveDetail")),), path_params=REDRIVE, errors=(404,),
        ),
        Endpoint(
            "POST", "/api/redrives/{redrive_id}/cancel", "cancelRedrive", "Stop a running redrive before its next "
            "letter", TAG, partial(cancel, s), (Reply(200, "It is cancelled.", ref("Redrive")),),
            path_params=REDRIVE, errors=(404, 409),
        ),
        Endpoint(
            "POST", "/api/redrives/{redrive_id}/resume", "resumeRedrive", "Carry on a cancelled or interrupted "
            "redrive after the last letter it handled", TAG, partial(resume, s),
            (Reply(200, "Its run has ended.", ref("Redrive")),
             Reply(202, "Its run goes on in the server: follow it at Location.", ref("Redrive"),
                   headers={"Location": "The redrive's URL."})),
            path_params=REDRIVE, errors=(404, 409),
        ),
    ]  # fmt: skip


def redrive_json(s: Services, redrive: Redrive) -> dict[str, Any]:
    """A redrive with SPEC's key names: times as RFC 3339, its filter redacted."""
    data = asdict(redrive)
    data.update(
        filters=stored_filter_json(s.redactor, redrive.filters),
        created_at=redrive.created_at.isoformat(),
        updated_at=redrive.updated_at.isoformat(),
    )
    return data


def _existing(s: Services, redrive_id: RedriveId) -> Redrive:
    redrive = s.app.dlq.get_redrive(redrive_id)
    if redrive is None:
        raise Problem(404, f"no redrive {redrive_id}")
    return redrive


def list_(s: Services, call: Call) -> Response:
    limit = call.query["limit"]
    found = s.app.dlq.list_redrives(limit=limit + 1, cursor=call.query.get("cursor"))
    next_cursor = found[limit - 1].id if len(found) > limit else None
    return ok({"redrives": [redrive_json(s, redrive) for redrive in found[:limit]], "next_cursor": next_cursor})


def get(s: Services, call: Call) -> Response:
    redrive = _existing(s, RedriveId(call.path["redrive_id"]))
    outcome = [asdict(fingerprint) for fingerprint in s.app.dlq.redrive_outcome(redrive.id)]
    return ok({**redrive_json(s, redrive), "outcome": outcome})


def cancel(s: Services, call: Call) -> Response:
    redrive_id = RedriveId(call.path["redrive_id"])
    stopped = s.app.dlq.cancel_redrive(redrive_id)  # NotFound: a 404
    redrive = _existing(s, redrive_id)
    if not stopped:
        raise Problem(409, f"redrive {redrive_id} is not running (it is {redrive.state})")
    return ok(redrive_json(s, redrive))


def resume(s: Services, call: Call) -> Response:
    redrive = _existing(s, RedriveId(call.path["redrive_id"]))
    if redrive.state == "finished":
        raise Problem(409, f"redrive {redrive.id} is finished: nothing is left to resume")
    ended = resume_in_background(s.app, redrive.id, by=call.by)
    shown = redrive_json(s, _existing(s, redrive.id))
    if ended:
        return ok(shown)
    return ok(shown, status=202, headers={"Location": f"{call.root_path}/api/redrives/{redrive.id}"})
