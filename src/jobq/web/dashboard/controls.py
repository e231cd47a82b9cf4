"""Cancel a job, pause or resume a queue: one form button each, then back to the page with what happened.

Both are state-changing requests: write access and a valid CSRF token are required (``jobq.web.csrf``).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jobq.errors import NotFound
from jobq.web.auth import caller
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.render import Flash, base_url


def cancel(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/jobs/{job_id}/cancel``."""
    job_id = request.path_params["job_id"]
    page = f"{base_url(request)}/jobs/{job_id}"
    try:
        done = board.app.cancel(job_id, by=caller(request.scope, front_end="dashboard"))
    except NotFound as exc:
        return board.pages.redirect(request, f"{base_url(request)}/jobs", flash=Flash(str(exc), "error"))
    text = "Job cancelled (a running job stops within a second)." if done else "The job had finished already."
    return board.pages.redirect(request, page, flash=Flash(text, "ok" if done else "warn"))


def pause(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/queues/{queue}/pause``."""
    return _change(board, request, pause=True)


def resume(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/queues/{queue}/resume``."""
    return _change(board, request, pause=False)


def _change(board: Board, request: Request, *, pause: bool) -> Response:
    queue = request.path_params["queue"]
    home = f"{base_url(request)}/"
    try:
        if pause:
            changed = board.app.pause(queue, by=caller(request.scope, front_end="dashboard"))
        else:
            changed = board.app.resume(queue)
    except NotFound as exc:
        return board.pages.redirect(request, home, flash=Flash(str(exc), "error"))
    verb = "paused" if pause else "resumed"
    text = f"Queue {queue} {verb}." if changed else f"Queue {queue} was {'paused' if pause else 'not paused'} already."
    return board.pages.redirect(request, home, flash=Flash(text))
