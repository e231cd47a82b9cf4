"""What every page handler is given — the queue, the redactor, the renderer — and how a handler becomes a route.

Handlers are plain synchronous functions of ``(board, request, form)``: ``App`` talks to the database
synchronously, so each runs in a worker thread, the form (if any) read before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from jobq.app import App
from jobq.errors import StorageError
from jobq.redact import Redactor
from jobq.stats import Thresholds
from jobq.web.dashboard.render import Pages, base_url
from jobq.web.dashboard.suggestions import Suggestions
from jobq.web.limits import Limits

MAX_FORM_FIELDS = 2000


class Form:
    """A submitted ``application/x-www-form-urlencoded`` form: each name with its values in order."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def get(self, name: str, default: str = "") -> str:
        """The first value of ``name``."""
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name``."""
        return list(self._values.get(name, []))

    def as_dict(self) -> dict[str, str]:
        """The first value of each name."""
        return {name: values[0] for name, values in self._values.items()}


@dataclass(frozen=True)
class Board:
    """The dashboard's collaborators, passed to every handler."""

    app: App
    redactor: Redactor
    pages: Pages
    limits: Limits
    thresholds: Thresholds
    suggestions: Suggestions

    def back(self, request: Request, url: str, default: str) -> str:
        """``url`` if it is a page of this dashboard (a form's way back), else ``default``: never another site."""
        base = base_url(request)
        parts = urlsplit(url)
        inside = not parts.scheme and not parts.netloc and (parts.path == base or parts.path.startswith(base + "/"))
        return url if inside and "\\" not in url and not url.startswith("//") else default


Handler = Callable[[Board, Request, Form | None], Response]


def view(board: Board, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running ``handler`` in a worker thread, with the form of a POST parsed first."""

    async def endpoint(request: Request) -> Response:
        form = None
        if request.method == "POST":
            body = (await request.body()).decode("utf-8", "replace")
            try:
                form = Form(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
            except ValueError:
                form = Form([])
        try:
            return await run_in_threadpool(handler, board, request, form)
        except StorageError as exc:  # the database is down or locked: say so, as the API's 503 does
            detail = f"The database did not answer; try again shortly. ({board.redactor.text(str(exc))})"
            return board.pages.render(request, "refused.html", status=503, nav="", error=detail, back="")

    return endpoint
