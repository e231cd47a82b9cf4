"""Rows → domain records, and the few values both backends encode the same way."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from jobq.backends.contract import DeadLetterFilter, DeadLetterSummary, JobFilter
from jobq.clock import to_datetime
from jobq.errors import AlreadyReplayed, JobqError, NotFound
from jobq.fingerprint import storable_text
from jobq.job import (
    AttemptError,
    ClaimedJob,
    DeadLetter,
    DeadLetterId,
    ErrorClass,
    ExpiredLease,
    Job,
    JobId,
    JobStatus,
    Lease,
    OutboxEntry,
    Resolution,
)
from jobq.payload import dumps as dump_payload
from jobq.payload import result_from_text
from jobq.payload import shown as shown_payload
from jobq.tally import COUNTER
from jobq.tally import Key as TallyKey

Row = Mapping[str, Any]


def error_to_json(error: AttemptError) -> str:
    """One attempt error as the JSON object stored in a history."""
    return json.dumps(error_to_dict(error), ensure_ascii=False)


def error_to_dict(error: AttemptError) -> dict[str, Any]:
    """One attempt error as plain JSON values (time in unix seconds)."""
    return {
        "attempt": error.attempt,
        "at": error.at.timestamp(),
        "error_type": storable_text(error.error_type),
        "message": storable_text(error.message),
        "traceback": storable_text(error.traceback),
        "worker": None if error.worker is None else storable_text(error.worker),
        "duration": error.duration,
    }


def errors_from_json(value: str | list[dict[str, Any]]) -> tuple[AttemptError, ...]:
    """A stored history (JSON text or already decoded) → attempt errors."""
    items = json.loads(value) if isinstance(value, str) else value
    return tuple(
        AttemptError(
            attempt=item["attempt"],
            at=to_datetime(item["at"]),
            error_type=item["error_type"],
            message=item["message"],
            traceback=item.get("traceback") or "",
            worker=item.get("worker"),
            duration=item.get("duration"),
        )
        for item in items
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _time(value: float | None) -> Any:
    return None if value is None else to_datetime(value)


def job_from_row(row: Row) -> Job:
    """A ``jobs`` row → Job (a payload no reader could show comes back empty, with a note)."""
    payload, payload_note = shown_payload(row["payload"])
    return Job(
        id=JobId(row["id"]),
        task=row["task"],
        queue=row["queue"],
        status=cast(JobStatus, row["status"]),
        payload=payload,
        payload_note=payload_note,
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        priority=row["priority"],
        tenant=row["tenant"],
        key=row["key"],
        unique_key=row["unique_key"],
        errors=errors_from_json(row["errors"]),
        created_at=_time(row["created_at"]),
        run_at=_time(row["run_at"]),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
        worker=row["worker"],
        replay_of=row["replay_of"],
        result=result_from_text(row["result"]),
    )


def dead_letter_from_row(row: Row) -> DeadLetter:
    """A ``dead_letters`` row → DeadLetter (payload and errors may be absent from a light listing; a payload no
    reader could show comes back empty, with a note)."""
    columns = set(row.keys())
    payload, payload_note = shown_payload(row["payload"]) if "payload" in columns else ({}, None)
    return DeadLetter(
        id=DeadLetterId(row["id"]),
        job_id=JobId(row["job_id"]),
        task=row["task"],
        queue=row["queue"],
        priority=row["priority"],
        tenant=row["tenant"],
        key=row["key"],
        payload=payload,
        payload_note=payload_note,
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        errors=errors_from_json(row["errors"]) if "errors" in columns else (),
        error_type=row["error_type"],
        error_message=row["error_message"],
        error_traceback=row["error_traceback"] if "error_traceback" in columns else "",
        error_class=cast(ErrorClass, row["error_class"]),
        fingerprint=row["fingerprint"],
        failed_at=to_datetime(row["failed_at"]),
        created_at=_time(row["created_at"]),
        resolution=cast(Resolution, row["resolution"]),
        replayed_at=_time(row["replayed_at"]),
        replayed_as=row["replayed_as"],
        note=row["note"],
        recover_at=_time(row["recover_at"]) if "recover_at" in columns else None,
        recovery_round=row["recovery_round"] if "recovery_round" in columns else None,
        previous_id=row["previous_id"] if "previous_id" in columns else None,
    )


# Filters are composed from this fixed whitelist: field → column. Values are always bound.
_DEAD_COLUMNS = {
    "tenant": "tenant",
    "task": "task",
    "queue": "queue",
    "error_class": "error_class",
    "fingerprint": "fingerprint",
    "resolution": "resolution",
    "job_id": "job_id",
}
_JOB_COLUMNS = {"status": "status", "queue": "queue", "task": "task", "tenant": "tenant", "key": "key"}

Placeholder = Callable[[str], str]
"""Renders a named parameter in the driver's style (``:name`` or ``%(name)s``)."""


def dead_letter_conditions(
    where: DeadLetterFilter, param: Placeholder, search_condition: str
) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions (to AND together) and their parameters for a dead-letter filter."""
    conditions, params = _equalities(_DEAD_COLUMNS, where, param)
    if where.since is not None:
        conditions.append(f"failed_at >= {param('since')}")
        params["since"] = where.since
    if where.until is not None:
        conditions.append(f"failed_at < {param('until')}")
        params["until"] = where.until
    if where.search:
        conditions.append(search_condition)
        params["search"] = where.search
    if where.unresolved:
        conditions.append("resolution IN ('open', 'pending_recovery')")
    return conditions, params


def job_conditions(where: JobFilter, param: Placeholder) -> tuple[list[str], dict[str, Any]]:
    """SQL conditions and parameters for a job filter."""
    return _equalities(_JOB_COLUMNS, where, param)


def _equalities(columns: dict[str, str], where: Any, param: Placeholder) -> tuple[list[str], dict[str, Any]]:
    conditions: list[str] = []
    params: dict[str, Any] = {}
    for field, column in columns.items():
        value = getattr(where, field)
        if value is not None:
            conditions.append(f"{column} = {param(field)}")
            params[field] = value
    return conditions, params


def letter_row(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as the named parameters of ``insert_dead_letter`` (JSON as text, times in seconds)."""

    def seconds(moment: Any) -> float | None:
        return None if moment is None else float(moment.timestamp())

    return {
        "id": letter.id, "job_id": letter.job_id, "task": letter.task, "queue": letter.queue,
        "priority": letter.priority, "tenant": letter.tenant, "key": letter.key,
        "payload": dump_payload(letter.payload), "attempts": letter.attempts, "max_attempts": letter.max_attempts,
        "errors": json.dumps([error_to_dict(e) for e in letter.errors], ensure_ascii=False),
        "error_type": storable_text(letter.error_type), "error_message": storable_text(letter.error_message),
        "error_traceback": storable_text(letter.error_traceback), "error_class": letter.error_class,
        "fingerprint": letter.fingerprint, "failed_at": seconds(letter.failed_at),
        "created_at": seconds(letter.created_at), "resolution": letter.resolution,
        "replayed_at": seconds(letter.replayed_at), "replayed_as": letter.replayed_as, "note": letter.note,
        "recover_at": seconds(letter.recover_at), "recovery_round": letter.recovery_round,
        "previous_id": letter.previous_id,
    }  # fmt: skip


def outbox_entry_from_row(row: Row) -> OutboxEntry:
    """An ``outbox`` row → OutboxEntry (``delivered_to`` is JSON text on SQLite, decoded JSONB on PostgreSQL).

    ``data`` holds an alert's event, or, with a ``dead_letter_id``, the letter's row as it was written.
    """
    data = None if row["data"] is None else _json(row["data"])
    letter = None
    if data is not None and row["dead_letter_id"] is not None:
        data, letter = None, _written_letter(data)
    return OutboxEntry(
        id=row["id"],
        kind=row["kind"],
        dead_letter_id=row["dead_letter_id"],
        created_at=row["created_at"],
        attempts=row["attempts"],
        delivered_to=tuple(_json(row["delivered_to"])),
        data=data,
        letter=letter,
    )


def _written_letter(data: Any) -> DeadLetter | None:
    """The letter an outbox entry carries; None when it cannot be read (the letter itself is read instead)."""
    try:
        return dead_letter_from_row(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def claimed_job_from_row(row: Row) -> ClaimedJob:
    """A claimed ``jobs`` row → ClaimedJob; a payload that cannot be read says why, for the worker to record."""
    try:
        payload, unreadable = _json(row["payload"]), None  # the rule was checked when it was stored
    except (ValueError, RecursionError):
        payload, unreadable = shown_payload(row["payload"])
    return ClaimedJob(
        lease=Lease(JobId(row["id"]), row["token"]),
        task=row["task"],
        queue=row["queue"],
        payload=payload,
        unreadable=unreadable,
        alone=bool(row["alone"]),
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        tenant=row["tenant"],
        key=row["key"],
        created_at=row["created_at"],
        run_at=row["run_at"],
    )


def expired_lease_from_row(row: Row) -> ExpiredLease:
    """A running ``jobs`` row whose lease ran out → ExpiredLease."""
    return ExpiredLease(
        lease=Lease(JobId(row["id"]), row["token"]),
        task=row["task"],
        queue=row["queue"],
        attempts=row["attempts"],
        max_attempts=row["max_attempts"],
        worker=row["worker"],
        started_at=row["started_at"],
    )


def pruned_tally(letters: Sequence[DeadLetter]) -> dict[TallyKey, float]:
    """The ``dlq_pruned`` counters a prune of ``letters`` adds, by queue."""
    return {("dlq_pruned", queue, COUNTER): float(count) for queue, count in Counter(x.queue for x in letters).items()}


def summary_from_row(row: Row, by_class: dict[str, int], by_resolution: dict[str, int]) -> DeadLetterSummary:
    """The ``dead_letter_summary`` row and the two breakdowns → DeadLetterSummary."""
    return DeadLetterSummary(
        total=row["total"],
        permanent=row["permanent"],
        recent=row["recent"],
        avg_attempts=float(row["avg_attempts"] or 0.0),
        in_recovery=row["in_recovery"],
        by_class=by_class,
        by_resolution=by_resolution,
        pruned=int(row["pruned"]),
    )


def replay_refused(dead_letter_id: str, row: Row | None) -> JobqError:
    """Why a replay made no job: the letter is missing, or it was replayed already (and force was not given)."""
    if row is None:
        return NotFound(f"no dead letter {dead_letter_id}")
    return AlreadyReplayed(
        f"dead letter {dead_letter_id} was already replayed as {row['replayed_as']}; use force to replay again"
    )
