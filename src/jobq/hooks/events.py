"""Hook events: what the outbox records when a job dies or an alert fires, as plain JSON-able values."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

from jobq.clock import system_clock
from jobq.errors import JobqError
from jobq.job import ErrorClass, new_id

HookKind = Literal["on_dead", "notify", "alert"]
HOOK_KINDS: tuple[HookKind, ...] = get_args(HookKind)


@dataclass(frozen=True)
class HookEvent:
    """One thing to tell the outside world; ``id`` is the idempotency key receivers de-duplicate on."""

    id: str
    kind: HookKind
    created_at: float
    """Unix seconds."""
    data: dict[str, Any]
    """on_dead / notify: the dead letter (``jobq.serialize.dead_letter_to_dict`` keys); alert: see ``alert_event``."""

    @classmethod
    def create(cls, kind: HookKind, data: Mapping[str, Any], *, now: float | None = None) -> HookEvent:
        """A new event with a fresh, time-sortable id."""
        if kind not in HOOK_KINDS:
            raise JobqError(f"unknown hook kind {kind!r}: expected one of {', '.join(HOOK_KINDS)}")
        return cls(new_id(), kind, system_clock() if now is None else now, dict(data))

    def to_dict(self) -> dict[str, Any]:
        """The event as the JSON object a webhook receives: ``{"id", "kind", "created_at", "data"}``."""
        return {"id": self.id, "kind": self.kind, "created_at": self.created_at, "data": self.data}

    def to_json(self) -> str:
        """``to_dict`` as compact, strict JSON (ASCII only: a lone surrogate in a message cannot break it)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> HookEvent:
        """An event back from ``to_json`` (the outbox, or a receiver); a one-line JobqError when malformed."""
        try:
            value = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise JobqError(f"hook event is not JSON: {exc}") from None
        if not isinstance(value, dict):
            raise JobqError(f"hook event must be a JSON object, not {type(value).__name__}")
        event_id, kind, created_at, data = (value.get(name) for name in ("id", "kind", "created_at", "data"))
        if not isinstance(event_id, str) or not event_id:
            raise JobqError(f"hook event id must be a non-empty string, not {event_id!r}")
        if kind not in HOOK_KINDS:
            raise JobqError(f"unknown hook kind {kind!r}: expected one of {', '.join(HOOK_KINDS)}")
        if isinstance(created_at, bool) or not isinstance(created_at, int | float):
            raise JobqError(f"hook event created_at must be unix seconds, not {created_at!r}")
        if not isinstance(data, dict):
            raise JobqError(f"hook event data must be a JSON object, not {type(data).__name__}")
        return cls(event_id, cast(HookKind, kind), float(created_at), data)


_KINDS_BY_CLASS: dict[str, tuple[HookKind, ...]] = {
    "user_error": ("on_dead", "notify"),  # tell the job's owner: their input was wrong
    "system_error": ("on_dead", "alert"),  # tell the operators: something of ours is broken
}


def kinds_for_class(error_class: str) -> tuple[HookKind, ...]:
    """The hook kinds a dead letter of this class produces: always on_dead; notify or alert by class."""
    return _KINDS_BY_CLASS.get(error_class, ("on_dead",))


def event_for_dead_letter(event_id: str, kind: HookKind, created_at: float, letter: Mapping[str, Any]) -> HookEvent:
    """The event of one outbox entry, keeping the entry's id so every retry carries the same delivery id."""
    if kind == "alert":
        alert = alert_event("system_error", _died(letter), dead_letter=letter, now=created_at)
        return HookEvent(event_id, kind, created_at, alert.data)
    return HookEvent(event_id, kind, created_at, dict(letter))


def events_for_dead_letter(
    letter: Mapping[str, Any], error_class: ErrorClass | None = None, *, now: float | None = None
) -> list[HookEvent]:
    """The events a new dead letter produces (SPEC section 2): always on_dead; notify or alert by class.

    ``letter`` is ``jobq.serialize.dead_letter_to_dict`` output; ``error_class`` defaults to its own.
    """
    error_class = error_class or letter.get("error_class")
    moment = system_clock() if now is None else now
    events = []
    for kind in _KINDS_BY_CLASS.get(str(error_class), ("on_dead",)):
        if kind == "alert":
            events.append(alert_event("system_error", _died(letter), dead_letter=letter, now=moment))
        else:
            events.append(HookEvent.create(kind, letter, now=moment))
    return events


def _died(letter: Mapping[str, Any]) -> str:
    first_line = str(letter.get("error_message", "")).strip().split("\n", 1)[0][:300]
    return (
        f"Job {letter.get('job_id')} ({letter.get('task')}) died with a system error after "
        f"{letter.get('attempts')} attempts: {letter.get('error_type')}: {first_line}"
    )


def alert_event(
    name: str,
    message: str,
    *,
    value: float | None = None,
    threshold: float | None = None,
    dead_letter: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> HookEvent:
    """An alert for operators: a threshold crossed (``last_24h``, ``avg_retries``...), a new fingerprint, or a
    system error (``name="system_error"`` with its ``dead_letter``). ``value``/``threshold`` are None when the
    alert is not about a threshold.
    """
    data: dict[str, Any] = {"name": name, "value": _finite(value), "threshold": _finite(threshold), "message": message}
    if dead_letter is not None:
        data["dead_letter"] = dict(dead_letter)
    return HookEvent.create("alert", data, now=now)


def _finite(number: float | None) -> float | None:
    # Strict JSON has no NaN or infinity; an alert must never fail to serialize.
    return float(number) if number is not None and math.isfinite(number) else None
