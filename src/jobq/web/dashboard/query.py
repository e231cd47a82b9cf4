"""The filters of the dashboard's lists, as typed into its forms and carried in its URLs.

A filter keeps the operator's text (so the form shows what was typed) and turns it into ``app.dlq`` or
``app.list_jobs`` arguments on demand; each value is bound as a SQL parameter by the core, never spliced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from jobq.job import ERROR_CLASSES, JOB_STATUSES, RESOLUTIONS

MAX_TEXT = 500
DURATION = re.compile(r"(?:[0-9]{1,6}[smhdw])+")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S")

LETTER_FIELDS: dict[str, str] = {
    "task": "task", "tenant": "tenant", "queue": "queue", "class": "error_class", "fingerprint": "fingerprint",
    "resolution": "resolution", "since": "since", "until": "until", "q": "search",
}  # fmt: skip
"""Query parameter → ``app.dlq`` filter."""
LETTER_LABELS = {
    "task": "task", "tenant": "tenant", "queue": "queue", "class": "class", "fingerprint": "fingerprint",
    "resolution": "resolution", "since": "failed since", "until": "failed before", "q": "message contains",
}  # fmt: skip
JOB_FIELDS = ("status", "queue", "task", "tenant", "key")
YEAR_ONE = -62_135_596_800.0
"""The earliest time a datetime holds: a stored filter of "999999w ago" reaches further back, and means the same."""
CHOICES: dict[str, tuple[str, ...]] = {"class": ERROR_CLASSES, "resolution": RESOLUTIONS, "status": JOB_STATUSES}


class Invalid(ValueError):
    """A filter value that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Filter:
    """The filter fields given (non-empty, as typed), for one kind of list."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def letters(cls, params: Mapping[str, str]) -> Filter:
        """A dead-letter filter from query or form values (other names are ignored)."""
        return cls(_given(params, LETTER_FIELDS))

    @classmethod
    def stored(cls, filters: Mapping[str, Any]) -> Filter:
        """A filter as a redrive or a purge recorded it (``app.dlq`` names, unix seconds), as the list's filter."""
        names = {core: name for name, core in LETTER_FIELDS.items()}
        values = {}
        for name, value in filters.items():
            if name in ("since", "until") and isinstance(value, int | float):
                at = datetime.fromtimestamp(max(value, YEAR_ONE), UTC)
                value = at.isoformat(" ", "seconds").removesuffix("+00:00")  # %Y leaves year 1 unpadded
            if name in names and value is not None:
                values[names[name]] = str(value)
        return cls(values)

    @classmethod
    def jobs(cls, params: Mapping[str, str]) -> Filter:
        """A job filter from query values."""
        return cls(_given(params, JOB_FIELDS))

    def __bool__(self) -> bool:
        return bool(self.values)

    def get(self, name: str) -> str:
        """The text of one field ("" when not given)."""
        return self.values.get(name, "")

    def with_(self, **changes: str | None) -> Filter:
        """This filter with fields changed (None or "" removes one)."""
        values = dict(self.values)
        for name, value in changes.items():
            if value:
                values[name] = value
            else:
                values.pop(name, None)
        return Filter(values)

    def query(self, **extra: str | int | None) -> str:
        """The filter (and ``extra`` parameters) as a URL query string, with its leading ``?`` (or "")."""
        values: dict[str, str | int] = {**self.values, **{k: v for k, v in extra.items() if v not in (None, "")}}
        return f"?{urlencode(values)}" if values else ""

    def letter_filters(self) -> dict[str, Any]:
        """The dead-letter filter as ``app.dlq`` keyword arguments; Invalid names a bad value."""
        return {LETTER_FIELDS[name]: _parse(name, text) for name, text in self.values.items()}

    def job_filters(self) -> dict[str, Any]:
        """The job filter as ``app.list_jobs`` keyword arguments."""
        return {name: _parse(name, text) for name, text in self.values.items()}

    def describe(self) -> list[tuple[str, str]]:
        """(label, value) pairs, for a confirmation that says what it applies to."""
        return [(LETTER_LABELS.get(name, name), text) for name, text in self.values.items()]


def _given(params: Mapping[str, str], names: Mapping[str, str] | tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in names:
        text = (params.get(name) or "").strip()
        if text:
            values[name] = text
    return values


def _parse(name: str, text: str) -> Any:
    if len(text) > MAX_TEXT:
        raise Invalid(f"{name}: at most {MAX_TEXT} characters")
    if "\x00" in text:
        raise Invalid(f"{name}: must not contain a NUL character")
    if name in CHOICES and text not in CHOICES[name]:
        raise Invalid(f"{name}: expected one of {', '.join(CHOICES[name])}, not {text[:40]!r}")
    if name in ("since", "until"):
        return moment(text, name)
    return text


def moment(text: str, name: str = "time") -> datetime | timedelta:
    """``24h`` / ``7d`` (that long ago), ``2024-05-01``, ``2024-05-01 10:00`` (UTC) or an ISO time with offset."""
    text = text.strip()
    if DURATION.fullmatch(text):
        return timedelta(seconds=sum(int(n) * _UNITS[unit] for n, unit in re.findall(r"([0-9]+)([smhdw])", text)))
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{name}: expected a duration ago (24h, 7d) or a time (2024-05-01 10:00 UTC), "
                      f"not {text[:40]!r}") from None  # fmt: skip
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
