"""The dashboard: the operator's screens for the queue and the DLQ, server-rendered under ``/dashboard``.

Pages are Jinja2 templates (every value autoescaped) with one small script and one stylesheet shipped in the
package: no build step, nothing fetched from elsewhere. Every page talks to ``App`` and ``app.dlq`` only.
Browsers sign in with the server's token and then carry a signed session cookie; every action is a form
POST guarded against CSRF, and the read-only token signs in to a dashboard whose actions are hidden and
refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, NoMatchFound, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from jobq.app import App
from jobq.redact import Redactor
from jobq.stats import Thresholds
from jobq.web.auth import SAFE_METHODS, Tokens
from jobq.web.dashboard import actions, controls, groups, jobs, letters, overview, redrives, signin
from jobq.web.dashboard.board import Board, Form, Handler, view
from jobq.web.dashboard.render import Pages
from jobq.web.dashboard.suggestions import Suggestions
from jobq.web.limits import Limits
from jobq.web.scope import route_path
from jobq.web.sessions import DEFAULT_MAX_AGE, PREFIX, Sessions

STATIC = Path(__file__).resolve().parent.parent / "static"
FILES = {"dashboard.css": "text/css", "dashboard.js": "text/javascript", "favicon.svg": "image/svg+xml"}
"""The static files, with their media types; pages link them with ``?v=<version>``, so they may be cached."""
STATIC_HEADERS = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
SESSION_PURPOSE = "jobq dashboard sessions v1"

__all__ = ["Dashboard", "DashboardOptions"]


@dataclass(frozen=True)
class DashboardOptions:
    """How the dashboard behaves.

    ``redactor`` hides PII on every page (default: the server's, the API's); ``secret`` signs session cookies
    (default: derived from the server's tokens, so that every process with the same tokens accepts the same
    sessions; random per process for a server without tokens); a session lasts ``session_max_age`` seconds;
    ``thresholds`` are the alerts the overview shows.
    """

    redactor: Redactor | None = None
    secret: bytes | None = None
    session_max_age: float = DEFAULT_MAX_AGE
    thresholds: Thresholds = field(default_factory=Thresholds)


class Dashboard:
    """The dashboard of one ``App``: its routes, and what the security middleware needs to know of it."""

    def __init__(
        self, app: App, *, tokens: Tokens, limits: Limits, redactor: Redactor, options: DashboardOptions | None = None
    ) -> None:
        options = options or DashboardOptions()
        key = options.secret or tokens.secret(SESSION_PURPOSE) or secrets.token_bytes(32)
        self.tokens = tokens
        self.sessions = Sessions(key, max_age=options.session_max_age)
        pages = Pages(self.sessions, clock=app.clock, sign_in_needed=tokens.required)
        self.board = Board(app, options.redactor or redactor, pages, limits, options.thresholds, Suggestions(app))

    def routes(self) -> list[BaseRoute]:
        """Everything under ``/dashboard`` — one mounted sub-application, no API operation — and ``/``."""
        board = self.board

        def get(path: str, handler: Handler) -> Route:
            return Route(path, view(board, handler), methods=["GET"])

        def post(path: str, handler: Handler) -> Route:
            return Route(path, view(board, handler), methods=["POST"])

        pages = [
            get("/", overview.page),
            get("/dead-letters", letters.list_page),
            get("/dead-letters/{dead_letter_id}", letters.letter_page),
            get("/groups", groups.page),
            get("/jobs", jobs.list_page),
            get("/jobs/{job_id}", jobs.job_page),
            post("/jobs/{job_id}/cancel", controls.cancel),
            post("/queues/{queue}/pause", controls.pause),
            post("/queues/{queue}/resume", controls.resume),
            post("/actions", actions.confirm),
            post("/actions/run", actions.perform),
            get("/operations", redrives.operations_page),
            get("/redrives/{redrive_id}", redrives.redrive_page),
            post("/redrives/{redrive_id}/confirm", redrives.confirm),
            post("/redrives/{redrive_id}/run", redrives.perform),
            get("/sign-in", partial(signin.sign_in_page, self.tokens)),
            post("/sign-in", partial(signin.sign_in, self.tokens)),
            post("/sign-out", signin.sign_out),
            Route("/static/{name}", _static, methods=["GET"]),
            get("/{rest:path}", _not_found),
        ]
        return [Mount(PREFIX, routes=pages), Home()]

    def public_paths(self) -> frozenset[str]:
        """Paths answered without credentials: the sign-in and sign-out forms, the static files, ``/``."""
        static = {f"{PREFIX}/static/{name}" for name in FILES}
        return frozenset({"/", f"{PREFIX}/sign-in", f"{PREFIX}/sign-out", *static})

    @staticmethod
    def guards(scope: Scope) -> bool:
        """Whether a request is the dashboard's (sessions and CSRF checks apply to it)."""
        path = route_path(scope)
        return path == PREFIX or path.startswith(PREFIX + "/")

    def refusal(self, scope: Scope, status: int, detail: str) -> ASGIApp | None:
        """A browser refused on a dashboard page: sent to sign in (401), or shown why (403)."""
        if not self.guards(scope):
            return None
        base = f"{scope.get('root_path', '')}{PREFIX}"
        if status == 401:
            if scope["method"] not in SAFE_METHODS:
                return _refused_page(self.board, 401, "Sign in again to do that: your session ended.")
            path = scope.get("path", "")
            query = scope.get("query_string", b"").decode("latin-1")
            after = quote(f"{path}?{query}" if query else path, safe="/")
            why = "&why=expired" if detail == "invalid" else ""
            return RedirectResponse(f"{base}/sign-in?next={after}{why}", status_code=303)
        return _refused_page(self.board, status, detail)


def _refused_page(board: Board, status: int, detail: str) -> ASGIApp:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        response = board.pages.render(Request(scope), "refused.html", status=status, nav="", error=detail, back="")
        await response(scope, receive, send)

    return answer


async def _static(request: Request) -> Response:
    """One of the dashboard's own files (nothing else on disk is reachable)."""
    name = request.path_params["name"]
    if name not in FILES:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(STATIC / name, media_type=FILES[name], headers=STATIC_HEADERS)


class Home(BaseRoute):
    """``/`` sends a browser to the dashboard (a route of its own: it is no operation of the API)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and route_path(scope) == "/":
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = RedirectResponse(f"{scope.get('root_path', '')}{PREFIX}/", status_code=307)
        await response(scope, receive, send)


def _not_found(board: Board, request: Request, form: Form | None) -> Response:
    return board.pages.render(request, "missing.html", status=404, nav="", what="No such page",
                              hint="The address may be mistyped.")  # fmt: skip
