"""JSON Schemas of what the API answers: ``jobq.serialize``'s records, with SPEC's key names."""

from __future__ import annotations

from typing import Any

from jobq.audit import AUDIT_ACTIONS
from jobq.bulk import BULK_OUTCOMES
from jobq.job import ERROR_CLASSES, JOB_STATUSES, RESOLUTIONS
from jobq.redrive import REDRIVE_STATES
from jobq.web.values import Schema


def ref(name: str) -> Schema:
    """A reference to one of ``COMPONENTS``."""
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Schema], *, optional: tuple[str, ...] = ()) -> Schema:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


def _list_of(name: str) -> Schema:
    return {"type": "array", "items": ref(name)}


STRING: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time"}
MAYBE_STRING: Schema = {"type": ["string", "null"]}
MAYBE_TIME: Schema = {"anyOf": [TIME, {"type": "null"}]}
INTEGER: Schema = {"type": "integer"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOLEAN: Schema = {"type": "boolean"}
CURSOR: Schema = {"type": ["string", "null"], "description": "Pass as `cursor` for the next page; null on the last."}

_ATTEMPT_ERROR = _object({
    "attempt": INTEGER, "at": TIME, "error_type": STRING, "message": STRING, "traceback": STRING,
    "worker": MAYBE_STRING, "duration": {"type": ["number", "null"]},
})  # fmt: skip

LIGHT_FIELDS = ("payload", "payload_note", "errors", "error_traceback")
"""What a dead-letter listing leaves out unless asked (the store does not read them); as ``jobq dlq list``."""

_PAYLOAD_NOTE: Schema = {
    "type": ["string", "null"],
    "description": "Why payload is empty: the stored payload breaks the payload rule (an older version, a row "
    "written by hand) and is shown degraded. null: payload is the stored payload.",
}
_DEAD_LETTER_LIGHT: dict[str, Schema] = {
    "id": STRING, "job_id": STRING, "task": STRING, "queue": STRING, "tenant": MAYBE_STRING, "key": MAYBE_STRING,
    "priority": INTEGER, "attempts": INTEGER, "max_attempts": INTEGER, "error_type": STRING,
    "error_message": STRING, "error_class": {"enum": list(ERROR_CLASSES)}, "fingerprint": STRING,
    "failed_at": TIME, "created_at": MAYBE_TIME, "resolution": {"enum": list(RESOLUTIONS)},
    "replayed_at": MAYBE_TIME, "replayed_as": MAYBE_STRING, "note": MAYBE_STRING,
    "recover_at": MAYBE_TIME, "recovery_round": {"type": ["integer", "null"]}, "previous_id": MAYBE_STRING,
}  # fmt: skip
_DEAD_LETTER_FULL: dict[str, Schema] = {
    **_DEAD_LETTER_LIGHT, "payload": {"type": "object"}, "payload_note": _PAYLOAD_NOTE,
    "errors": _list_of("AttemptError"), "error_traceback": STRING,
}  # fmt: skip

_JOB = _object({
    "id": STRING, "task": STRING, "queue": STRING, "status": {"enum": list(JOB_STATUSES)},
    "payload": {"type": "object"}, "payload_note": _PAYLOAD_NOTE, "attempts": INTEGER,
    "max_attempts": {"type": ["integer", "null"]},
    "priority": INTEGER, "tenant": MAYBE_STRING, "key": MAYBE_STRING, "unique_key": MAYBE_STRING,
    "errors": _list_of("AttemptError"), "created_at": MAYBE_TIME, "run_at": MAYBE_TIME, "started_at": MAYBE_TIME,
    "finished_at": MAYBE_TIME, "worker": MAYBE_STRING, "replay_of": MAYBE_STRING,
    "result": {"description": "What the handler returned (any JSON value) once succeeded; null before, or when it "
                              "returned None or a value that is not JSON."},
})  # fmt: skip

_GROUP = _object({
    "value": MAYBE_STRING, "count": COUNT, "first_seen": TIME, "last_seen": TIME, "sample_id": STRING,
    "sample_error_type": STRING, "sample_message": STRING,
})  # fmt: skip

_DLQ_STATS = _object({
    "total_failed": COUNT, "permanent_failures": COUNT, "last_24h": COUNT, "avg_retries": {"type": "number"},
    "pruned": {**COUNT, "description": "Dead letters the DLQ's quota archived and deleted."},
    "recovery": _object({name: COUNT for name in ("total_in_recovery", "pending_recovery", "recovered", "abandoned")}),
})  # fmt: skip
_QUEUE_COUNTS = _object(
    {state: COUNT for state in ("queued", "scheduled", "running", "succeeded", "dead", "cancelled")}
)

_FAILURE = _object({
    "id": STRING, "job_id": STRING, "task": STRING, "queue": STRING, "tenant": MAYBE_STRING,
    "error_type": STRING, "error_message": STRING, "error_class": {"enum": list(ERROR_CLASSES)},
    "resolution": {"enum": list(RESOLUTIONS)}, "retry_count": COUNT,
    "created_at": {"type": ["number", "null"], "description": "When the job was created (unix seconds)."},
    "completed_at": {"type": "number", "description": "When it was dead-lettered (unix seconds)."},
})  # fmt: skip

_REDRIVE: dict[str, Schema] = {
    "id": STRING, "state": {"enum": list(REDRIVE_STATES)},
    "filters": {"type": "object", "description": "The dead-letter filter it replays (as in listings)."},
    "matched": {**COUNT, "description": "Letters that matched when it started."}, "replayed": COUNT,
    "skipped": {**COUNT, "description": "Letters replayed, resolved or purged by someone else meanwhile, or "
                "whose stored payload cannot be read."},
    "force": {"type": "boolean"}, "rate": {"type": ["number", "null"], "description": "Replays a second at most."},
    "cursor": MAYBE_STRING, "owner": MAYBE_STRING, "started_by": MAYBE_STRING, "created_at": TIME, "updated_at": TIME,
}  # fmt: skip
_REDRIVE_OUTCOME = _object({
    "fingerprint": STRING, "replayed": COUNT, "succeeded": COUNT, "died_again": COUNT,
    "pending": {**COUNT, "description": "Still queued or running."},
    "unknown": {**COUNT, "description": "Their job was cleared and left no dead letter."},
    "died_with": {"type": "object", "additionalProperties": COUNT, "description": "Fingerprint → how many died so."},
})  # fmt: skip
_AUDIT_ENTRY = _object({
    "id": STRING, "dead_letter_id": {**MAYBE_STRING, "description": "Null for a purge."}, "at": TIME,
    "action": {"enum": list(AUDIT_ACTIONS)}, "by": MAYBE_STRING,
    "detail": {"type": "object", "description": "A replay: job_id, force, redrive_id, and original_payload and "
               "payload when edited. An abandon: note. A purge: count and filters. A cancel: job_id and was (queued "
               "or running), or by filter: filters, cancelled and stopping."},
})  # fmt: skip

_OUTCOMES = list(BULK_OUTCOMES)
_BULK_RESULT = _object(
    {"dead_letter_id": STRING, "outcome": {"enum": _OUTCOMES}, "job_id": MAYBE_STRING}, optional=("job_id",)
)

_QUEUE = _object({
    "queue": STRING, **{state: COUNT for state in ("queued", "scheduled", "running", "succeeded", "dead", "cancelled")},
    "paused": {"type": "boolean"}, "paused_at": MAYBE_TIME, "paused_by": MAYBE_STRING,
})  # fmt: skip
_PERIODIC = _object({
    "name": STRING, "task": STRING, "schedule": {**STRING, "description": "A cron expression (and its zone) or "
                                                "an interval."},
    "missed": {"enum": ["latest", "skip"]}, "args": {"type": "array"}, "kwargs": {"type": "object"},
    "last_run": MAYBE_TIME, "last_job": MAYBE_STRING, "last_status": {"enum": [*JOB_STATUSES, None]},
    "next_run": TIME,
})  # fmt: skip

COMPONENTS: dict[str, Schema] = {
    "Queue": _QUEUE,
    "Periodic": _PERIODIC,
    "AttemptError": _ATTEMPT_ERROR,
    "DeadLetter": _object(_DEAD_LETTER_FULL),
    "DeadLetterListed": {
        **_object(_DEAD_LETTER_FULL, optional=LIGHT_FIELDS),
        "description": "A dead letter in a listing: payload, errors and error_traceback only with with_payload.",
    },
    "Job": _JOB,
    "Group": _GROUP,
    "DlqStats": _DLQ_STATS,
    "Stats": _object({
        "dlq": ref("DlqStats"),
        "queues": {"type": "object", "additionalProperties": _QUEUE_COUNTS},
        "by_class": _object({name: COUNT for name in ERROR_CLASSES}),
        "hooks": _object({state: COUNT for state in ("pending", "delivered", "failed")}),
        "paused": {"type": "array", "items": STRING, "description": "The queues no worker claims from now."},
    }),
    "Failure": _FAILURE,
    "BulkReport": _object({
        "matched": COUNT, "dry_run": {"type": "boolean"}, "changed": COUNT,
        "results": _list_of("BulkResult"), "next_cursor": CURSOR,
        "redrive_id": {**MAYBE_STRING, "description": "Replays: the redrive a replay by filter was recorded as."},
        "state": {"enum": [*REDRIVE_STATES, None], "description": "Replays: how that redrive's run ended."},
    }, optional=("redrive_id", "state")),
    "BulkResult": _BULK_RESULT,
    "Redrive": _object(_REDRIVE),
    "RedriveDetail": _object({**_REDRIVE, "outcome": _list_of("RedriveOutcome")}),
    "RedriveOutcome": _REDRIVE_OUTCOME,
    "AuditEntry": _AUDIT_ENTRY,
}  # fmt: skip

GROUP_BY = ("fingerprint", "task", "class", "tenant", "queue")
"""What ``app.dlq.groups(by=)`` accepts."""


def page_of(name: str, key: str) -> Schema:
    """``{key: [name...], "next_cursor": ...}``."""
    return _object({key: _list_of(name), "next_cursor": CURSOR})


def object_of(**properties: Any) -> Schema:
    """An object with these required properties."""
    return _object(dict(properties))
