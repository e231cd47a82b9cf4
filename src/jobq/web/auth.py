"""Who may do what: bearer tokens compared in constant time, and a read-only token for safe methods.

A request is identified by the first credential source that recognises it. The API reads the
``Authorization: Bearer`` header; the dashboard adds a signed session cookie set by its sign-in form
(``jobq.web.sessions``). Cookie-borne credentials need CSRF protection, which a header token does not (a
browser never attaches it to a cross-site request by itself): ``jobq.web.csrf`` gives it, reading which
source identified the request from the scope.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

from jobq.web.problems import problem_response
from jobq.web.scope import header, route_path

Access = Literal["read", "write"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_KEY = "jobq.access"
"""Where the middleware leaves the request's access in the ASGI scope."""
SOURCE_KEY = "jobq.credential"
"""Where the middleware leaves the name of the credential source that identified the request (or None)."""
FRONT_ENDS = {"bearer": "api", "session": "dashboard"}
ROLES: dict[str | None, str] = {"write": "admin", "read": "read-only"}


@dataclass(frozen=True, slots=True)
class Identity:
    """What a credential source found: the access it grants, or None for a credential that is wrong."""

    access: Access | None
    source: str


CredentialSource = Callable[[Scope], Identity | None]
"""Reads one kind of credential from a request; None when the request carries none of that kind."""

Refusal = Callable[[Scope, int, str], ASGIApp | None]
"""Answers a refused request in its client's terms — 401 with why (``unauthenticated`` or ``invalid``), 403 with
a one-line detail — or None for the default problem document: the dashboard sends a browser to sign in."""


class Tokens:
    """The server's secrets: a token that may do everything and one that may only read; either may be None.

    Only digests are kept, and a presented token is compared with both digests whatever it is, so neither
    the time taken nor an early return tells an attacker how close a guess was.
    """

    def __init__(self, token: str | None, read_only_token: str | None = None) -> None:
        if token == "" or read_only_token == "":
            raise ValueError("a token must not be empty")
        if token is not None and token == read_only_token:
            raise ValueError("the read-only token must differ from the token")
        self._write = _digest(token) if token is not None else None
        self._read = _digest(read_only_token) if read_only_token is not None else None

    @property
    def required(self) -> bool:
        """Whether requests must authenticate (a server with no token at all is open)."""
        return self._write is not None or self._read is not None

    @property
    def writable(self) -> bool:
        """Whether any token may change state (with only a read-only token, nobody can)."""
        return self._write is not None or not self.required

    def access(self, presented: str) -> Access | None:
        """What ``presented`` may do, or None when it is no token of this server."""
        digest = _digest(presented)
        write = hmac.compare_digest(digest, self._write or b"")  # a missing token's b"" never matches
        read = hmac.compare_digest(digest, self._read or b"")
        if write:
            return "write"
        return "read" if read else None

    def secret(self, purpose: str) -> bytes:
        """A key derived from the tokens for ``purpose`` (signing sessions): the same in every process that
        has the same tokens, and a different one as soon as a token changes. Empty without tokens."""
        material = (self._write or b"") + (self._read or b"")
        return hmac.new(material, purpose.encode(), hashlib.sha256).digest() if material else b""


def caller(scope: Scope, *, front_end: str) -> str:
    """Who makes a request, as the audit trail records it (``by``): ``api:admin`` for the token, ``dashboard:admin``
    for a session signed in with it, ``api:open`` on a server without tokens.

    Tokens carry no names, so the role stands for the person. It comes from the credential the middleware checked,
    never from anything the client says of itself; ``front_end`` names a request that carried no credential.
    """
    source = scope.get(SOURCE_KEY)
    access = scope.get(ACCESS_KEY)
    if source is None:
        return f"{front_end}:{'open' if access == 'write' else 'anonymous'}"
    return f"{FRONT_ENDS.get(source, source)}:{ROLES.get(access, 'unknown')}"


def _digest(token: str) -> bytes:
    # Comparing fixed-length digests hides the token's length too.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def bearer(tokens: Tokens) -> CredentialSource:
    """The ``Authorization: Bearer <token>`` header as a credential source."""

    def identify(scope: Scope) -> Identity | None:
        value = header(scope, b"authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Identity(None, "bearer")
        return Identity(tokens.access(token.strip()), "bearer")

    return identify


class AuthMiddleware:
    """Answers 401 to a request without valid credentials and 403 to a read-only one that would change state.

    ``public`` paths (relative to the mount) need no credentials: ``/health`` for load balancers.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: Tokens,
        sources: Sequence[CredentialSource],
        public: Collection[str],
        refusal: Refusal | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.sources = tuple(sources)
        self.public = frozenset(public)
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        verdict, source = self._verdict(scope)
        if route_path(scope) not in self.public:
            if verdict == "unauthenticated" or verdict == "invalid":
                await self._refuse(scope, 401, verdict, _unauthorized(verdict))(scope, receive, send)
                return
            if scope["method"] not in SAFE_METHODS and verdict != "write":
                detail = "this token may only read" if self.tokens.writable else "this server is read-only"
                await self._refuse(scope, 403, detail, problem_response(403, detail))(scope, receive, send)
                return
        scope[ACCESS_KEY] = verdict if verdict == "read" or verdict == "write" else None
        scope[SOURCE_KEY] = source
        await self.app(scope, receive, send)

    def _refuse(self, scope: Scope, status: int, detail: str, default: ASGIApp) -> ASGIApp:
        custom = self.refusal(scope, status, detail) if self.refusal is not None else None
        return custom or default

    def _verdict(self, scope: Scope) -> tuple[Access | Literal["unauthenticated", "invalid"], str | None]:
        if not self.tokens.required:
            return "write", None
        for source in self.sources:
            identity = source(scope)
            if identity is not None:
                return identity.access or "invalid", identity.source
        return "unauthenticated", None


def _unauthorized(reason: str) -> ASGIApp:
    if reason == "invalid":
        challenge, detail = 'Bearer realm="jobq", error="invalid_token"', "the token is not valid"
    else:
        challenge, detail = 'Bearer realm="jobq"', "authentication required: send Authorization: Bearer <token>"
    return problem_response(401, detail, headers={"WWW-Authenticate": challenge})
