"""Pages as HTML: the Jinja2 environment (autoescaping everything), the values every page shares, flash
messages, and the headers that keep a page from being framed, cached, or made to run a script it did not ship.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from jobq import __version__
from jobq.web.auth import ACCESS_KEY, SOURCE_KEY
from jobq.web.sessions import SESSION_KEY, Session, Sessions, cookie, cookie_path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FLASH_COOKIE = "jobq_flash"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""Only our own script and stylesheet run: even text that escaped escaping could not execute."""
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Flash:
    """A message shown once, on the page after an action: what happened, and where to see it."""

    text: str
    kind: str = "ok"
    link: tuple[str, str] | None = None
    """(label, URL)."""


def base_url(request: Request) -> str:
    """Where the dashboard is: ``/dashboard``, or ``/jobq/dashboard`` when mounted under ``/jobq``."""
    return cookie_path(request.scope)


class Pages:
    """Renders templates into responses, and redirects with a flash message."""

    def __init__(self, sessions: Sessions, *, clock: Callable[[], float], sign_in_needed: bool) -> None:
        self.sessions = sessions
        self.clock = clock
        self.sign_in_needed = sign_in_needed
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )  # fmt: skip
        self.env.filters.update(
            ago=self._ago, when=when, num=number, seconds=seconds, pretty=pretty_json, short=short_name
        )

    def render(self, request: Request, template: str, *, status: int = 200, **context: Any) -> Response:
        """``template`` with ``context`` and what every page shows (navigation, access, CSRF token, flash)."""
        session: Session | None = request.scope.get(SESSION_KEY)
        flash = self._flash(request)
        access = request.scope.get(ACCESS_KEY)
        shared = {
            "base": base_url(request),
            "access": access,
            "writable": access == "write",
            "signed_in": request.scope.get(SOURCE_KEY) == "session",
            "sign_in_needed": self.sign_in_needed,
            "csrf": self.sessions.csrf_token(session) if session is not None else "",
            "flash": flash,
            "version": __version__,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        }
        html = self.env.get_template(template).render({**shared, **context})
        response = HTMLResponse(html, status_code=status, headers=HEADERS)
        if flash is not None:
            response.headers.append("set-cookie", _flash_cookie("", request, max_age=0))
        return response

    def redirect(self, request: Request, url: str, *, flash: Flash | None = None) -> Response:
        """303 See Other to ``url`` (after a POST, so that reloading does not repeat it), with a flash."""
        response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
        if flash is not None:
            value = self.sessions.signer.sign({"t": flash.text, "k": flash.kind, "l": flash.link})
            response.headers.append("set-cookie", _flash_cookie(value, request, max_age=120))
        return response

    def _flash(self, request: Request) -> Flash | None:
        value = cookie(request.scope, FLASH_COOKIE)
        data = self.sessions.signer.unsign(value) if value else None
        if not isinstance(data, dict) or not isinstance(data.get("t"), str):
            return None
        link = data.get("l")
        if isinstance(link, list) and len(link) == 2 and all(isinstance(part, str) for part in link):
            return Flash(data["t"], str(data.get("k", "ok")), (link[0], link[1]))
        return Flash(data["t"], str(data.get("k", "ok")))

    def _ago(self, moment: datetime | None) -> str:
        if moment is None:
            return "—"
        return ago(self.clock() - moment.timestamp())


def _flash_cookie(value: str, request: Request, *, max_age: int) -> str:
    secure = "; Secure" if request.url.scheme == "https" else ""
    return f"{FLASH_COOKIE}={value}; Path={base_url(request)}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"


def ago(elapsed: float) -> str:
    """``elapsed`` seconds as a short age: ``just now``, ``42s ago``, ``5m ago``, ``3h ago``, ``12d ago``."""
    if elapsed < 0:
        return f"in {_span(-elapsed)}"
    return "just now" if elapsed < 1 else f"{_span(elapsed)} ago"


def _span(elapsed: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if elapsed >= size:
            return f"{int(elapsed // size)}{unit}"
    return f"{int(elapsed)}s"


def when(moment: datetime | None) -> str:
    """A time as operators read it: ``2024-05-01 10:00:03 UTC``."""
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def number(value: float) -> str:
    """``12345`` → ``12,345``; ``2.5`` → ``2.5``."""
    if isinstance(value, int):
        return f"{value:,}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def seconds(value: float | None) -> str:
    """A duration: ``35 ms``, ``1.2 s``, ``3m 20s``."""
    if value is None:
        return "—"
    if value < 0.001:
        return "<1 ms"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    if value < 60:
        return f"{value:.1f} s"
    return f"{int(value // 60)}m {int(value % 60)}s"


def short_name(qualified: str) -> str:
    """A qualified class name without its module: ``tests.conftest.ProviderError`` → ``ProviderError``."""
    return qualified.rpartition(".")[2] or qualified


def pretty_json(value: Any) -> str:
    """A JSON value, indented (for payloads)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
