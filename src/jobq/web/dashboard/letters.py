"""Dead letters: the filtered, paginated list, and one letter's page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from jobq.job import RESOLUTIONS, AttemptError, DeadLetter, DeadLetterId, Job
from jobq.web.dashboard.audit import audit_rows
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.lineage import lineage
from jobq.web.dashboard.query import Filter, Invalid

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class Row:
    """A letter of the list, its message redacted, and the job its replay became (with that job's state)."""

    letter: DeadLetter
    message: str
    note: str
    replay: Job | None


@dataclass(frozen=True, slots=True)
class Tab:
    """A resolution to narrow the list to, with how many letters of the filter have it."""

    resolution: str
    count: int | None
    """None when it would cost too much to know (see ``_resolution_counts``)."""
    url: str


def page_size(text: str | None) -> int:
    """The page size asked for, if it is one of ``PAGE_SIZES``."""
    return int(text) if text and text.isdigit() and int(text) in PAGE_SIZES else DEFAULT_PAGE_SIZE


def list_page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/dead-letters``: filters, resolution tabs, a page of letters, actions on them."""
    params = request.query_params
    chosen = Filter.letters(params)
    size = page_size(params.get("limit"))
    seen = int(params["seen"]) if params.get("seen", "").isdigit() else 0
    context: dict[str, Any] = {"rows": [], "matching": 0, "next_cursor": None, "tabs": [], "outcomes": {}}
    context["error"] = None
    try:
        filters = chosen.letter_filters()
    except Invalid as exc:
        context["error"] = str(exc)
    else:
        cursor = DeadLetterId(params["cursor"]) if params.get("cursor") else None
        context.update(_listing(board, chosen, filters, size=size, cursor=cursor))
    return board.pages.render(
        request, "dead_letters.html", nav="dead-letters", filter=chosen, size=size, sizes=PAGE_SIZES, seen=seen,
        suggestions=board.suggestions.get(), resolutions=RESOLUTIONS, **context,
    )  # fmt: skip


def _listing(
    board: Board, chosen: Filter, filters: dict[str, Any], *, size: int, cursor: DeadLetterId | None
) -> dict[str, Any]:
    page = board.app.dlq.list(limit=size, cursor=cursor, **filters)
    counts = _resolution_counts(board, filters)
    tabs = [Tab(name, counts.get(name), chosen.with_(resolution=name or None).query()) for name in ("", *RESOLUTIONS)]
    listed = rows(board, list(page))
    return {
        "rows": listed,
        "outcomes": outcomes(listed),
        "matching": counts.get(filters.get("resolution", "")) or 0,
        "next_cursor": page.next_cursor,
        "tabs": tabs,
    }


def _resolution_counts(board: Board, filters: dict[str, Any]) -> dict[str, int]:
    """How many letters of the filter have each resolution ("" for all of them), where that is cheap to know.

    Alone, a resolution is counted on its own index. Combined with another filter, SQLite's planner walks the
    resolution index and visits every letter of that resolution (~90 ms a count at 100,000 letters), and a
    message search reads every letter: then only the list shown is counted — the chosen tab, or "all".
    """
    dlq = board.app.dlq
    others = {name: value for name, value in filters.items() if name != "resolution"}
    if not others:
        counts: dict[str, int] = {name: dlq.count(resolution=name) for name in RESOLUTIONS}
        return {"": sum(counts.values()), **counts}
    return {filters.get("resolution", ""): dlq.count(**filters)}


def rows(board: Board, letters: list[DeadLetter]) -> list[Row]:
    """Letters as rows: messages and notes redacted in one pass, replays looked up."""
    texts = board.redactor.texts([letter.error_message for letter in letters] + [x.note or "" for x in letters])
    messages, notes = texts[: len(letters)], texts[len(letters) :]
    replays = {letter.replayed_as: board.app.get_job(letter.replayed_as) for letter in letters if letter.replayed_as}
    return [
        Row(letter, message, note, replays.get(letter.replayed_as) if letter.replayed_as else None)
        for letter, message, note in zip(letters, messages, notes, strict=True)
    ]


def outcomes(listed: list[Row]) -> dict[str, int]:
    """What became of the replays among ``listed``: how many succeeded, died again, wait or were cleared."""
    found: dict[str, int] = {}
    for row in listed:
        if row.letter.replayed_as is None:
            continue
        status = row.replay.status if row.replay is not None else "cleared"
        outcome = {"dead": "died again", "queued": "waiting", "running": "running"}.get(status, status)
        found[outcome] = found.get(outcome, 0) + 1
    return found


def letter_page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/dead-letters/{id}``: everything about one letter, and what to do with it."""
    dead_letter_id = DeadLetterId(request.path_params["dead_letter_id"])
    letter = board.app.dlq.get(dead_letter_id)
    if letter is None:
        return board.pages.render(request, "missing.html", status=404, nav="dead-letters",
                                  what=f"No dead letter {dead_letter_id}", hint="It may have been purged.")  # fmt: skip
    shown = board.redactor.dead_letter(letter)
    chain = lineage(board.app, letter)
    replay = next(generation.job for generation in chain if generation.current)
    return board.pages.render(
        request, "dead_letter.html", nav="dead-letters", letter=shown, attempts=attempts(shown),
        job=board.app.get_job(letter.job_id), chain=chain, replay=replay,
        edited=replay is not None and replay.payload != letter.payload,
        audit=audit_rows(board, board.app.dlq.audit_trail(letter.id)),
    )  # fmt: skip


def attempts(letter: DeadLetter) -> list[AttemptError]:
    """Every attempt's error, newest first; an imported letter without a history shows its final error."""
    errors = list(letter.errors)
    if not errors:
        errors = [AttemptError(letter.attempts, letter.failed_at, letter.error_type, letter.error_message,
                               letter.error_traceback)]  # fmt: skip
    elif letter.error_traceback and not errors[-1].traceback:
        errors[-1] = replace(errors[-1], traceback=letter.error_traceback)
    return list(reversed(errors))
