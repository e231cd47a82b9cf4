"""Redrives — replays by filter, recorded — on the dashboard: the Operations page (every redrive, and the newest
changes of the audit log), one redrive's progress and outcome by fingerprint, and cancelling or resuming it.

Cancel and resume ask first, like the bulk actions: ``POST .../confirm`` states what will happen, ``POST .../run``
does it and goes back to the redrive with what happened. A resumed run goes on in the background
(``jobq.web.resume``): the redrive's page shows how far it got.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from jobq.errors import JobqError
from jobq.redrive import Redrive, RedriveId
from jobq.web.auth import caller
from jobq.web.dashboard.audit import audit_rows, stored_filter
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.query import Filter
from jobq.web.dashboard.render import Flash, base_url
from jobq.web.resume import resume_in_background

PAGE = 50
AUDIT_ROWS = 25
ACTIONS = ("cancel", "resume")


@dataclass(frozen=True, slots=True)
class RedriveRow:
    """A redrive, its filter as the dead-letter list's, and its progress as shares (0-100) of what it matched."""

    redrive: Redrive
    filter: Filter
    replayed_share: float
    skipped_share: float


def redrive_row(board: Board, redrive: Redrive) -> RedriveRow:
    """A redrive as pages show it."""
    matched = max(redrive.matched, 1)
    replayed = min(100.0, round(100 * redrive.replayed / matched, 1))
    skipped = min(100.0 - replayed, round(100 * redrive.skipped / matched, 1))
    return RedriveRow(redrive, stored_filter(board, redrive.filters), replayed, skipped)


def operations_page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/operations``: redrives newest first, a page at a time, and the latest audited changes."""
    cursor = request.query_params.get("cursor") or None
    found = board.app.dlq.list_redrives(limit=PAGE + 1, cursor=None if cursor is None else RedriveId(cursor))
    audit = [] if cursor else audit_rows(board, board.app.dlq.audit_log(limit=AUDIT_ROWS))
    return board.pages.render(
        request, "operations.html", nav="operations", rows=[redrive_row(board, redrive) for redrive in found[:PAGE]],
        next_cursor=found[PAGE - 1].id if len(found) > PAGE else None, audit=audit, first_page=cursor is None,
    )  # fmt: skip


def redrive_page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/redrives/{id}``: progress, filter, outcome by fingerprint, and Cancel / Resume."""
    redrive = board.app.dlq.get_redrive(RedriveId(request.path_params["redrive_id"]))
    if redrive is None:
        return _missing(board, request)
    outcome = board.app.dlq.redrive_outcome(redrive.id)
    return board.pages.render(
        request, "redrive.html", nav="operations", row=redrive_row(board, redrive), outcome=outcome
    )


def confirm(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/redrives/{id}/confirm``: what cancelling or resuming will do."""
    chosen = _chosen(board, request, form)
    if isinstance(chosen, Response):
        return chosen
    redrive, action = chosen
    return board.pages.render(
        request, "confirm_redrive.html", nav="operations", row=redrive_row(board, redrive), action=action
    )


def perform(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/redrives/{id}/run``: cancel or resume, then back to the redrive's page."""
    chosen = _chosen(board, request, form)
    if isinstance(chosen, Response):
        return chosen
    redrive, action = chosen
    if action == "cancel":
        flash = _cancel(board, redrive)
    else:
        flash = _resume(board, redrive, by=caller(request.scope, front_end="dashboard"))
        board.suggestions.forget()
    return board.pages.redirect(request, f"{base_url(request)}/redrives/{redrive.id}", flash=flash)


def _chosen(board: Board, request: Request, form: Form | None) -> tuple[Redrive, str] | Response:
    """The redrive and the action a form names, or the page saying why there is none."""
    assert form is not None
    redrive = board.app.dlq.get_redrive(RedriveId(request.path_params["redrive_id"]))
    action = form.get("action")
    if redrive is None:
        return _missing(board, request)
    if action not in ACTIONS:
        back = f"{base_url(request)}/redrives/{redrive.id}"
        error = f"unknown action {action[:40]!r}"
        return board.pages.render(request, "refused.html", status=400, nav="operations", error=error, back=back)
    return redrive, action


def _cancel(board: Board, redrive: Redrive) -> Flash:
    if board.app.dlq.cancel_redrive(redrive.id):
        return Flash("Cancelled: its run stops before its next letter. Resume it to carry on.")
    return Flash(f"Not cancelled: it is {redrive.state} already.", "warn")


def _resume(board: Board, redrive: Redrive, *, by: str) -> Flash:
    if redrive.state == "finished":
        return Flash("Nothing to resume: it is finished.", "warn")
    try:
        ended = resume_in_background(board.app, redrive.id, by=by)
    except JobqError as exc:
        return Flash(f"Not resumed: {board.redactor.text(str(exc))}", "warn")
    if ended:
        return Flash("Resumed, and finished: every letter it matched has been handled.")
    return Flash("Resumed: it goes on in the background. Reload this page to follow its progress.")


def _missing(board: Board, request: Request) -> Response:
    return board.pages.render(request, "missing.html", status=404, nav="operations",
                              what=f"No redrive {request.path_params['redrive_id']}",
                              hint="Redrives are listed on the Operations page.")  # fmt: skip
