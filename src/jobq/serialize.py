"""Records ↔ plain JSON values, with SPEC's key names: what exports, the CLI and the API all speak."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import datetime
from typing import Any, cast

from jobq.errors import JobqError, PayloadError
from jobq.job import (
    ERROR_CLASSES,
    RESOLUTIONS,
    AttemptError,
    DeadLetter,
    DeadLetterId,
    ErrorClass,
    Job,
    JobId,
    PausedQueue,
    Payload,
    Resolution,
)
from jobq.payload import accept as accept_payload
from jobq.periodic import PeriodicStatus

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(record_type: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(record_type)
    if names is None:
        names = _FIELD_NAMES[record_type] = tuple(field.name for field in fields(record_type))
    return names


def _plain(value: Any) -> Any:
    # A walk of our own rather than dataclasses.asdict, whose deep copies made exports and archives 5x slower.
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if is_dataclass(value):
        return _record(value)
    return value


def _record(record: Any) -> dict[str, Any]:
    return {name: _plain(getattr(record, name)) for name in _field_names(type(record))}


def periodic_to_dict(status: PeriodicStatus) -> dict[str, Any]:
    """A periodic schedule with its last and next run."""
    schedule = status.schedule
    return {
        "name": schedule.name, "task": schedule.task, "schedule": str(schedule), "missed": schedule.missed,
        "args": _plain(list(schedule.args)), "kwargs": _plain(dict(schedule.kwargs)),
        "last_run": _plain(status.last_run), "last_job": status.last_job, "last_status": status.last_status,
        "next_run": _plain(status.next_run),
    }  # fmt: skip


def queues_to_list(
    counts: dict[str, dict[str, int]], paused: list[PausedQueue], known: set[str]
) -> list[dict[str, Any]]:
    """Every queue (with jobs, paused, or used by a task), its counts and its pause, by name."""
    pauses = {pause.queue: pause for pause in paused}
    zero = dict.fromkeys(("queued", "scheduled", "running", "succeeded", "dead", "cancelled"), 0)
    return [
        {"queue": name, **zero, **counts.get(name, {}), "paused": name in pauses,
         "paused_at": _plain(pauses[name].paused_at) if name in pauses else None,
         "paused_by": pauses[name].paused_by if name in pauses else None}
        for name in sorted({*counts, *pauses, *known})
    ]  # fmt: skip


def job_to_dict(job: Job) -> dict[str, Any]:
    """A job as JSON values; times as ISO 8601."""
    return _record(job)


def dead_letter_to_dict(letter: DeadLetter) -> dict[str, Any]:
    """A dead letter as JSON values; times as ISO 8601."""
    return _record(letter)


def _time(value: Any, field: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise JobqError(f"{field}: {value!r} is not an ISO 8601 time") from None


def dead_letter_from_dict(data: dict[str, Any]) -> DeadLetter:
    """A dead letter back from ``dead_letter_to_dict`` output (an import); one-line error when malformed."""
    try:
        error_class = data["error_class"]
        resolution = data.get("resolution", "open")
        if error_class not in ERROR_CLASSES or resolution not in RESOLUTIONS:
            raise JobqError(f"unknown error_class {error_class!r} or resolution {resolution!r}")
        failed_at = _time(data["failed_at"], "failed_at")
        assert failed_at is not None
        return DeadLetter(
            id=DeadLetterId(str(data["id"])),
            job_id=JobId(str(data["job_id"])),
            task=str(data["task"]),
            queue=str(data["queue"]),
            priority=int(data.get("priority", 0)),
            tenant=data.get("tenant"),
            key=data.get("key"),
            payload=_payload(data),
            attempts=int(data["attempts"]),
            max_attempts=int(data.get("max_attempts", data["attempts"])),
            errors=tuple(_error_from_dict(item) for item in data.get("errors", [])),
            error_type=str(data["error_type"]),
            error_message=str(data["error_message"]),
            error_traceback=str(data.get("error_traceback", "")),
            error_class=cast(ErrorClass, error_class),
            fingerprint=str(data["fingerprint"]),
            failed_at=failed_at,
            created_at=_time(data.get("created_at"), "created_at"),
            resolution=cast(Resolution, resolution),
            replayed_at=_time(data.get("replayed_at"), "replayed_at"),
            replayed_as=data.get("replayed_as"),
            note=data.get("note"),
            recover_at=_time(data.get("recover_at"), "recover_at"),
            recovery_round=None if data.get("recovery_round") is None else int(data["recovery_round"]),
            previous_id=data.get("previous_id"),
        )
    except KeyError as exc:
        raise JobqError(f"dead letter is missing the field {exc.args[0]!r}") from None
    except PayloadError:
        raise
    except (TypeError, ValueError, AssertionError) as exc:
        raise JobqError(f"malformed dead letter: {exc}") from None


def _payload(data: dict[str, Any]) -> Payload:
    """An imported payload, held to the rule every payload entering storage meets."""
    if data.get("payload_note"):
        raise PayloadError(f"its payload was exported degraded, so it cannot be restored ({data['payload_note']})")
    return accept_payload(data["payload"])[0]


def _error_from_dict(data: dict[str, Any]) -> AttemptError:
    at = _time(data["at"], "errors[].at")
    assert at is not None
    return AttemptError(
        attempt=int(data["attempt"]),
        at=at,
        error_type=str(data["error_type"]),
        message=str(data["message"]),
        traceback=str(data.get("traceback") or ""),
        worker=data.get("worker"),
        duration=data.get("duration"),
    )
