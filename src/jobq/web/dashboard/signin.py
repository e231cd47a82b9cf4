"""Signing in with the server's token (the read-only token signs in read-only), and signing out.

Signing in starts a new session — a new nonce, so a session planted before sign-in is worth nothing — in an
HttpOnly, SameSite=Strict cookie. Both forms are CSRF-checked like every other (``jobq.web.csrf``); a flood of
guesses meets the server's rate limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from jobq.web.auth import ACCESS_KEY, SOURCE_KEY, Tokens
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.render import base_url

MAX_TOKEN = 1000


def sign_in_page(tokens: Tokens, board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/sign-in``; straight on to the dashboard for a browser signed in already."""
    after = board.back(request, request.query_params.get("next", ""), f"{base_url(request)}/")
    signed_in = request.scope.get(SOURCE_KEY) == "session" and request.scope.get(ACCESS_KEY) is not None
    if signed_in or not tokens.required:
        return board.pages.redirect(request, after)
    reason = request.query_params.get("why")
    notice = {"expired": "Your session ended: sign in again.", "signed-out": "Signed out."}.get(reason or "")
    return board.pages.render(request, "sign_in.html", nav="", after=after, error=None, notice=notice)


def sign_in(tokens: Tokens, board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/sign-in``: check the token, start a session, go where the browser was headed."""
    assert form is not None
    after = board.back(request, form.get("next"), f"{base_url(request)}/")
    token = form.get("token").strip()
    access = tokens.access(token) if token and len(token) <= MAX_TOKEN else None
    if access is None:
        return board.pages.render(request, "sign_in.html", status=401, nav="", after=after,
                                  error="That is not a token of this server.", notice=None)  # fmt: skip
    response = board.pages.redirect(request, after)
    sessions = board.pages.sessions
    response.headers.append("set-cookie", sessions.set_cookie(sessions.start(access), request.scope))
    return response


def sign_out(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/sign-out``: replace the session with an anonymous one."""
    response = board.pages.redirect(request, f"{base_url(request)}/sign-in?why=signed-out")
    sessions = board.pages.sessions
    response.headers.append("set-cookie", sessions.set_cookie(sessions.start(None), request.scope))
    return response
