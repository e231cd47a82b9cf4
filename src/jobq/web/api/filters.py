"""The filters of listings and bulk operations: the same names as ``app.dlq.list`` and ``app.list_jobs``.

Each value is parsed to a plain string, number or time and handed to ``App``, which binds it as a SQL
parameter; nothing a client sends ever becomes SQL text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jobq.clock import to_datetime
from jobq.job import ERROR_CLASSES, JOB_STATUSES, RESOLUTIONS
from jobq.redact import Redactor
from jobq.web.endpoints import Param
from jobq.web.limits import Limits
from jobq.web.values import Choice, Field, Fields, Integer, Moment, Text

YEAR_ONE = -62_135_596_800.0
"""The earliest time a datetime holds: a filter of "999999w ago" reaches further back, and means the same."""
NAME = Text(max_length=200)
ID = Text(max_length=200)

DEAD_LETTER_FILTERS: dict[str, Param] = {
    "tenant": Param(NAME, "Only this tenant."),
    "task": Param(NAME, "Only this task."),
    "queue": Param(NAME, "Only this queue."),
    "error_class": Param(Choice(ERROR_CLASSES), "Only this error class."),
    "fingerprint": Param(NAME, "Only this failure (see /api/dlq/groups)."),
    "resolution": Param(Choice(RESOLUTIONS), "Only dead letters in this state."),
    "since": Param(Moment(), "Failed at or after: an RFC 3339 time, or a duration ago (2h, 7d)."),
    "until": Param(Moment(), "Failed before: an RFC 3339 time, or a duration ago (2h, 7d)."),
    "search": Param(Text(max_length=500), "Text in the error message (case-insensitive)."),
}

DEAD_LETTER_FILTER = Fields({name: Field(param.kind, param.description) for name, param in DEAD_LETTER_FILTERS.items()})
"""The same filters as a JSON object, in the bodies of bulk operations."""

JOB_FILTERS: dict[str, Param] = {
    "status": Param(Choice(JOB_STATUSES), "Only jobs in this state."),
    "queue": Param(NAME, "Only this queue."),
    "task": Param(NAME, "Only this task."),
    "tenant": Param(NAME, "Only this tenant."),
    "key": Param(NAME, "Only jobs with this key."),
}


def paging(limits: Limits, *, default: int = 50) -> dict[str, Param]:
    """``limit`` and ``cursor``."""
    return {
        "limit": Param(Integer(1, limits.max_page), "How many to return.", default=default),
        "cursor": Param(ID, "Start after this id: the next_cursor of the previous page."),
    }


def chosen(values: Mapping[str, Any], names: Mapping[str, Param]) -> dict[str, Any]:
    """The values among ``names`` that were given."""
    return {name: value for name, value in values.items() if name in names}


def stored_filter_json(redactor: Redactor, filters: Mapping[str, Any]) -> dict[str, Any]:
    """A filter as a redrive or a purge recorded it, for a response: times as RFC 3339, the searched text redacted
    (an operator may have searched for a phone number)."""
    shown = dict(filters)
    for name in ("since", "until"):
        if isinstance(shown.get(name), int | float):
            shown[name] = to_datetime(max(shown[name], YEAR_ONE)).isoformat()
    if isinstance(shown.get("search"), str):
        shown["search"] = redactor.text(shown["search"])
    return shown
