"""CSRF protection of every state-changing request a browser may send with the session cookie.

Two independent checks, both required:

1. the request must come from our own origin: ``Sec-Fetch-Site: same-origin`` (every current browser sends
   it); without that header, an ``Origin`` header must name this host. A page on another port of the same
   host is *same-site* — its requests carry a SameSite=Strict cookie — so only same-origin passes;
2. it must carry the session's CSRF token: the ``csrf`` field of a form, or an ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobq.web.auth import SAFE_METHODS, SOURCE_KEY, Refusal
from jobq.web.problems import problem_response
from jobq.web.scope import header
from jobq.web.sessions import Sessions

FORM_FIELD = "csrf"
HEADER = b"x-csrf-token"
FORM_TYPE = "application/x-www-form-urlencoded"


def cross_origin(scope: Scope) -> str | None:
    """Why the request does not come from this server's own pages, or None when it does (or cannot tell)."""
    site = header(scope, b"sec-fetch-site")
    if site is not None:
        return None if site == "same-origin" else f"a {site} request (Sec-Fetch-Site: {site})"
    origin = header(scope, b"origin")
    if origin is None:
        return None  # not a browser, or a very old one: the token alone decides
    host = header(scope, b"host")
    if origin == "null" or host is None or urlsplit(origin).netloc.lower() != host.lower():
        return f"a request from another origin ({origin})"
    return None


class CsrfMiddleware:
    """Answers 403 to a state-changing request that fails either check.

    It guards requests under ``guarded`` paths (the dashboard, whose sign-in form has no credentials yet) and
    any request that a session cookie authenticated, wherever it goes.
    """

    def __init__(
        self, app: ASGIApp, *, sessions: Sessions, guarded: Callable[[Scope], bool], refusal: Refusal | None = None
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.guarded = guarded
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or not (self.guarded(scope) or scope.get(SOURCE_KEY) == "session")
        ):
            await self.app(scope, receive, send)
            return
        reason = cross_origin(scope)
        if reason is not None:
            await self._refuse(scope, f"refused {reason}: actions are only taken from this server's own pages")(
                scope, receive, send
            )
            return
        try:
            body = await _read_body(scope, receive)
        except HTTPException as exc:  # the body grew past the limit while it was read
            await problem_response(exc.status_code, exc.detail)(scope, receive, send)
            return
        token = header(scope, HEADER) or _form_token(scope, body)
        session = self.sessions.read(scope)
        if session is None or not token or not self.sessions.valid_csrf(session, token):
            detail = "the form is out of date or was not sent by this dashboard (CSRF token missing or wrong)"
            await self._refuse(scope, detail)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    def _refuse(self, scope: Scope, detail: str) -> ASGIApp:
        custom = self.refusal(scope, 403, detail) if self.refusal is not None else None
        return custom or problem_response(403, detail)


async def _read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole request body (bounded upstream by ``BodyLimitMiddleware``)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _form_token(scope: Scope, body: bytes) -> str | None:
    media_type = (header(scope, b"content-type") or "").partition(";")[0].strip().lower()
    if media_type != FORM_TYPE:
        return None
    values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(FORM_FIELD)
    return values[0] if values else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
