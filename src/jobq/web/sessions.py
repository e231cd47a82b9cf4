"""Signed session cookies: who signed in to the dashboard, and the secret its forms carry against CSRF.

A session is a small JSON value signed with HMAC-SHA256 and kept in an HttpOnly, SameSite=Strict cookie
scoped to the dashboard's path; the server stores nothing. The key is derived from the server's tokens
(``Tokens.secret``), so every process serving the same tokens accepts the same sessions, and changing a
token signs everyone out. A visitor who has not signed in still gets an anonymous session: its nonce is
what the sign-in form's CSRF token is derived from.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any, cast

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobq.web.auth import Access, CredentialSource, Identity
from jobq.web.scope import header

COOKIE = "jobq_session"
SESSION_KEY = "jobq.session"
"""Where ``SessionMiddleware`` leaves the request's ``Session`` in the ASGI scope."""
BASE_KEY = "jobq.dashboard"
"""Where ``SessionMiddleware`` leaves the dashboard's path (``/dashboard``, or ``/jobq/dashboard`` when mounted)."""
PREFIX = "/dashboard"
DEFAULT_MAX_AGE = 12 * 3600.0


@dataclass(frozen=True, slots=True)
class Session:
    """One browser's session: its random nonce, what it may do (None: not signed in) and when it ends."""

    nonce: str
    access: Access | None
    expires: float


class Signer:
    """Signs JSON values with HMAC-SHA256: ``base64(json).base64(mac)``; a forged or altered value reads as None."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a signing key needs at least 16 bytes")
        self._key = key

    def sign(self, value: Any) -> str:
        """``value`` as signed cookie-safe text."""
        body = _b64(json.dumps(value, separators=(",", ":")).encode())
        return f"{body}.{self._mac(body)}"

    def unsign(self, text: str) -> Any:
        """The value signed as ``text``, or None when the signature does not match."""
        body, _, mac = text.partition(".")
        if not mac or not hmac.compare_digest(mac, self._mac(body)):
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None

    def mac(self, purpose: str, text: str) -> str:
        """A MAC of ``text`` for one purpose (a CSRF token of a nonce)."""
        return self._mac(f"{purpose}:{text}")

    def _mac(self, text: str) -> str:
        return _b64(hmac.new(self._key, text.encode(), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Sessions:
    """Starts, reads and writes sessions; derives each session's CSRF token."""

    def __init__(self, key: bytes, *, max_age: float = DEFAULT_MAX_AGE, clock: Callable[[], float] = time.time) -> None:
        self.signer = Signer(key)
        self.max_age = max_age
        self.clock = clock

    def start(self, access: Access | None) -> Session:
        """A new session with a fresh nonce (signing in starts one, so a planted nonce is worth nothing)."""
        return Session(secrets.token_urlsafe(18), access, self.clock() + self.max_age)

    def read(self, scope: Scope) -> Session | None:
        """The session the request's cookie carries, when it is signed by us and has not expired."""
        value = cookie(scope, COOKIE)
        data = self.signer.unsign(value) if value else None
        if not isinstance(data, dict):
            return None
        nonce, access, expires = data.get("n"), data.get("a"), data.get("e")
        valid = isinstance(nonce, str) and access in ("read", "write", None) and isinstance(expires, int | float)
        if not valid or cast(float, expires) <= self.clock():
            return None
        return Session(cast(str, nonce), cast(Access | None, access), float(cast(float, expires)))

    def set_cookie(self, session: Session, scope: Scope) -> str:
        """The ``Set-Cookie`` value that keeps ``session`` in the browser."""
        value = self.signer.sign({"n": session.nonce, "a": session.access, "e": round(session.expires)})
        max_age = max(0, round(session.expires - self.clock()))
        return _cookie_header(value, scope, max_age)

    def csrf_token(self, session: Session) -> str:
        """The token this session's forms must send back."""
        return self.signer.mac("csrf", session.nonce)

    def valid_csrf(self, session: Session, token: str) -> bool:
        """Whether ``token`` is this session's CSRF token (compared in constant time)."""
        return hmac.compare_digest(token.encode(), self.csrf_token(session).encode())

    def source(self) -> CredentialSource:
        """The session cookie as a credential source of ``AuthMiddleware``: None when it names nobody."""

        def identify(scope: Scope) -> Identity | None:
            if cookie(scope, COOKIE) is None:
                return None
            session = self.read(scope)
            if session is None:
                return Identity(None, "session")  # forged or expired: the browser is sent to sign in again
            return Identity(session.access, "session") if session.access is not None else None

        return identify


def cookie_path(scope: Scope) -> str:
    """The dashboard's path, where its cookies live (the API never sees them, so it needs no CSRF defence).

    Inside the dashboard's own mount the scope's root path already ends with it: the path noted on the way in
    is the one to trust.
    """
    base: str | None = scope.get(BASE_KEY)
    return base if base is not None else f"{scope.get('root_path', '')}{PREFIX}"


def _cookie_header(value: str, scope: Scope, max_age: int) -> str:
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    return f"{COOKIE}={value}; Path={cookie_path(scope)}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def cookie(scope: Scope, name: str) -> str | None:
    """One cookie of the request, or None."""
    raw = header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


class SessionMiddleware:
    """Gives every request under ``guarded`` paths a session: the cookie's, or a new anonymous one it sets.

    The session is left in the scope under ``SESSION_KEY``; a handler that signs in or out sets its own cookie,
    which this middleware then leaves alone.
    """

    def __init__(self, app: ASGIApp, *, sessions: Sessions, guarded: Callable[[Scope], bool]) -> None:
        self.app = app
        self.sessions = sessions
        self.guarded = guarded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.guarded(scope):
            await self.app(scope, receive, send)
            return
        scope[BASE_KEY] = cookie_path(scope)
        session = self.sessions.read(scope)
        if session is not None:
            scope[SESSION_KEY] = session
            await self.app(scope, receive, send)
            return
        session = scope[SESSION_KEY] = self.sessions.start(None)
        set_cookie = self.sessions.set_cookie(session, scope)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not any(value.startswith(f"{COOKIE}=") for value in headers.getlist("set-cookie")):
                    headers.append("set-cookie", set_cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)
