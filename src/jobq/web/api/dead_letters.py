"""Dead letters one at a time, and the DLQ's read operations: list, detail, replay, abandon, count, groups."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from functools import partial
from typing import Any, Literal, cast

from starlette.responses import Response

from jobq.job import DeadLetter, DeadLetterGroup, DeadLetterId
from jobq.serialize import dead_letter_to_dict
from jobq.web.api.filters import DEAD_LETTER_FILTERS, ID, chosen, paging
from jobq.web.api.schemas import COUNT, GROUP_BY, LIGHT_FIELDS, STRING, object_of, page_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, JsonBody, Param, Reply
from jobq.web.problems import Problem
from jobq.web.responses import ok
from jobq.web.values import Boolean, Choice, Field, Fields, Integer, JsonArray, JsonObject, Text

TAG = "dead letters"
GroupBy = Literal["fingerprint", "task", "class", "tenant", "queue"]
LETTER = {"dead_letter_id": Param(ID, "The dead letter's id.")}

REPLAY = Fields({
    "force": Field(Boolean(), "Replay even if it was replayed already (a second new job)."),
    "payload": Field(
        Fields({"args": Field(JsonArray(), "Positional arguments."), "kwargs": Field(JsonObject(), "Keywords.")}),
        "Replace the arguments (edit then replay); the dead letter keeps the original.",
    ),
})  # fmt: skip
ABANDON = Fields({"note": Field(Text(max_length=2000), "Why it was given up on.")})


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "GET", "/api/dead-letters", "listDeadLetters", "Dead letters, newest first", TAG, partial(list_, s),
            (Reply(200, "One page of dead letters.", page_of("DeadLetterListed", "dead_letters"), links={
                f"{verb}First": (operation, "dead_letter_id", "$response.body#/dead_letters/0/id")
                for verb, operation in (("Get", "getDeadLetter"), ("Replay", "replayDeadLetter"),
                                        ("Abandon", "abandonDeadLetter"))}),),
            query={**DEAD_LETTER_FILTERS, **paging(s.limits), "with_payload": Param(
                Boolean(), "Include payloads, error histories and tracebacks.", default=False)},
        ),
        Endpoint(
            "GET", "/api/dead-letters/{dead_letter_id}", "getDeadLetter", "One dead letter in full", TAG,
            partial(get, s), (Reply(200, "The dead letter, with payload and every attempt.", ref("DeadLetter")),),
            path_params=LETTER, errors=(404,),
        ),
        Endpoint(
            "POST", "/api/dead-letters/{dead_letter_id}/replay", "replayDeadLetter", "Queue it again as a new job",
            TAG, partial(replay, s),
            (Reply(201, "The new job.", object_of(dead_letter_id=STRING, job_id=STRING),
                   headers={"Location": "The new job's URL."},
                   links={"GetJob": ("getJob", "job_id", "$response.body#/job_id")}),),
            path_params=LETTER, body=JsonBody(REPLAY, "Options; may be empty."), errors=(404, 409),
        ),
        Endpoint(
            "POST", "/api/dead-letters/{dead_letter_id}/abandon", "abandonDeadLetter", "Give up on it, with a note",
            TAG, partial(abandon, s),
            (Reply(200, "It is abandoned.", object_of(dead_letter_id=STRING, outcome={"const": "abandoned"})),),
            path_params=LETTER, body=JsonBody(ABANDON, "The note; may be empty."), errors=(404, 409),
        ),
        Endpoint(
            "GET", "/api/dlq/count", "countDeadLetters", "How many dead letters match", TAG, partial(count, s),
            (Reply(200, "The count.", object_of(count=COUNT)),), query=DEAD_LETTER_FILTERS,
        ),
        Endpoint(
            "GET", "/api/dlq/groups", "groupDeadLetters", "Matching dead letters grouped, largest group first", TAG,
            partial(groups, s), (Reply(200, "The groups.", object_of(by=STRING, groups={
                "type": "array", "items": ref("Group")})),),
            query={"by": Param(Choice(GROUP_BY), "What to group by.", default="fingerprint"), **DEAD_LETTER_FILTERS,
                   "limit": Param(Integer(1, s.limits.max_page), "How many groups.", default=50)},
        ),
    ]  # fmt: skip


def letter_json(services: Services, letter: DeadLetter, *, full: bool = True) -> dict[str, Any]:
    """A dead letter as the CLI's ``--json`` shows it, redacted; a light one leaves out payload and history."""
    data = dead_letter_to_dict(letter)
    if not full:
        for name in LIGHT_FIELDS:
            data.pop(name, None)
    return services.redactor.record(data)


def list_(s: Services, call: Call) -> Response:
    with_payload = call.query["with_payload"]
    page = s.app.dlq.list(
        limit=call.query["limit"], cursor=call.query.get("cursor"), with_payload=with_payload,
        **chosen(call.query, DEAD_LETTER_FILTERS),
    )  # fmt: skip
    letters = [letter_json(s, letter, full=with_payload) for letter in page]
    return ok({"dead_letters": letters, "next_cursor": page.next_cursor})


def get(s: Services, call: Call) -> Response:
    dead_letter_id = DeadLetterId(call.path["dead_letter_id"])
    letter = s.app.dlq.get(dead_letter_id)
    if letter is None:
        raise Problem(404, f"no dead letter {dead_letter_id}")
    return ok(letter_json(s, letter))


def replay(s: Services, call: Call) -> Response:
    dead_letter_id = DeadLetterId(call.path["dead_letter_id"])
    force, payload = call.body.get("force", False), call.body.get("payload")
    job_id = s.app.dlq.replay(dead_letter_id, force=force, payload=payload, by=call.by)
    location = f"{call.root_path}/api/jobs/{job_id}"
    return ok({"dead_letter_id": dead_letter_id, "job_id": job_id}, status=201, headers={"Location": location})


def abandon(s: Services, call: Call) -> Response:
    dead_letter_id = DeadLetterId(call.path["dead_letter_id"])
    if not s.app.dlq.abandon(dead_letter_id, note=call.body.get("note"), by=call.by):
        letter = s.app.dlq.get(dead_letter_id)
        state = letter.resolution if letter is not None else "gone"
        raise Problem(409, f"dead letter {dead_letter_id} is not open (it is {state})")
    return ok({"dead_letter_id": dead_letter_id, "outcome": "abandoned"})


def count(s: Services, call: Call) -> Response:
    return ok({"count": s.app.dlq.count(**chosen(call.query, DEAD_LETTER_FILTERS))})


def groups(s: Services, call: Call) -> Response:
    by = call.query["by"]
    found = s.app.dlq.groups(cast(GroupBy, by), limit=call.query["limit"], **chosen(call.query, DEAD_LETTER_FILTERS))
    return ok({"by": by, "groups": [s.redactor.record(group_json(group)) for group in found]})


def group_json(group: DeadLetterGroup) -> dict[str, Any]:
    """A group as the CLI's ``--json`` shows it: times as ISO 8601."""
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in asdict(group).items()}
