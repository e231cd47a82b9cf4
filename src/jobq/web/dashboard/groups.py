"""Dead letters grouped — by fingerprint (the same failure across jobs), task, class, tenant or queue —
each group with its count, first and last failure, a sample message, and actions on the whole group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from starlette.requests import Request
from starlette.responses import Response

from jobq.job import DeadLetterGroup
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.query import Filter, Invalid

GroupBy = Literal["fingerprint", "task", "class", "tenant", "queue"]
GROUP_BY: tuple[GroupBy, ...] = ("fingerprint", "task", "class", "tenant", "queue")
LIMITS = (50, 100, 500)


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A group, its sample message redacted, its share of the largest group, and the filter that selects it."""

    group: DeadLetterGroup
    message: str
    share: float
    """0-100, for the count's bar."""
    filter: Filter | None
    """None when the group cannot be selected by a filter (letters without a tenant)."""


def page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/groups``."""
    params = request.query_params
    by = cast(GroupBy, params.get("by")) if params.get("by") in GROUP_BY else "fingerprint"
    limit = int(params["limit"]) if params.get("limit", "").isdigit() and int(params["limit"]) in LIMITS else 50
    chosen = Filter.letters(params)
    context: dict[str, Any] = {"rows": [], "error": None, "total": 0}
    try:
        filters = chosen.letter_filters()
    except Invalid as exc:
        context["error"] = str(exc)
    else:
        found = board.app.dlq.groups(by, limit=limit, **filters)
        context["rows"] = group_rows(board, found, by, chosen)
        context["total"] = board.app.dlq.count(**filters)
    return board.pages.render(
        request, "groups.html", nav="groups", by=by, group_by=GROUP_BY, limit=limit, limits=LIMITS, filter=chosen,
        suggestions=board.suggestions.get(), **context,
    )  # fmt: skip


def group_rows(board: Board, groups: list[DeadLetterGroup], by: GroupBy, chosen: Filter) -> list[GroupRow]:
    """Groups as rows of the table."""
    messages = board.redactor.texts([group.sample_message for group in groups])
    peak = max((group.count for group in groups), default=1)
    field = "class" if by == "class" else by
    return [
        GroupRow(
            group,
            message,
            round(100 * group.count / peak, 1),
            chosen.with_(**{field: group.value}) if group.value is not None else None,
        )
        for group, message in zip(groups, messages, strict=True)
    ]
