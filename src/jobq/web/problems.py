"""Errors as ``application/problem+json`` (RFC 9457): a status, its title and a one-line detail."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from jobq.errors import AlreadyReplayed, JobqError, NotFound, StorageError
from jobq.web.responses import JsonResponse

PROBLEM_JSON = "application/problem+json"
DETAIL_LIMIT = 300

_STATUS_OF: tuple[tuple[type[Exception], int], ...] = (
    (NotFound, 404),
    (AlreadyReplayed, 409),
    (StorageError, 503),
    (JobqError, 422),  # PayloadError and the other refusals of bad input
    (ValueError, 422),  # the core's word for an argument out of range (limit, class, purge without filter)
    (OverflowError, 422),  # a number too large for the database
)


class Problem(Exception):
    """Raise in a handler to answer with this status and detail."""

    def __init__(self, status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def one_line(text: str) -> str:
    """``text`` on one line, cut to a readable length."""
    line = " ".join(text.split())
    return line if len(line) <= DETAIL_LIMIT else line[: DETAIL_LIMIT - 1] + "…"


def problem_response(status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> Response:
    """A problem document."""
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": one_line(detail)}
    return JsonResponse(body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON)


def status_of(exc: Exception) -> int | None:
    """The status that answers a core exception (None for a bug: a 500)."""
    for kind, status in _STATUS_OF:
        if isinstance(exc, kind):
            return status
    return None


def http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (no such route, method not allowed, body too large) as problems."""
    assert isinstance(exc, HTTPException)
    return problem_response(exc.status_code, exc.detail, headers=exc.headers)


def server_error(request: Request, exc: Exception) -> Response:
    """A bug: the detail says nothing about it. Starlette re-raises ``exc`` after this, so the server logs it."""
    return problem_response(500, "internal error; the server log has the details")
