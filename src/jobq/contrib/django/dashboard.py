"""jobq's dashboard and HTTP API inside a Django project's ASGI application, for Django's staff only.

    # asgi.py
    from django.core.asgi import get_asgi_application
    from jobq.contrib.django.dashboard import with_dashboard

    application = with_dashboard(get_asgi_application(), prefix="/jobq")

Requests under ``prefix`` need a signed-in, active staff user (Django's session, as its admin does): a browser
that has none is sent to ``settings.LOGIN_URL``, anything else gets 403. Django's session cookie is what
authenticates, so a state-changing request must come from the same origin (``Sec-Fetch-Site``/``Origin``).
Every other request goes to Django. Needs the ``web`` extra besides ``django``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.auth import aget_user
from django.http import HttpRequest, parse_cookie
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from jobq.web import Limits, create_app

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def with_dashboard(
    django_app: ASGIApp, *, prefix: str = "/jobq", backend: str = "default", limits: Limits | None = None
) -> ASGIApp:
    """``django_app`` with jobq's dashboard and API for ``TASKS[backend]`` under ``prefix``, staff only."""
    prefix = "/" + prefix.strip("/")
    jobq_app: ASGIApp | None = None

    def jobq() -> ASGIApp:  # built on first request: TASKS is read once Django is set up
        nonlocal jobq_app
        if jobq_app is None:
            from jobq.contrib.django.worker import backend_app

            # No token: Django's staff login, checked below, is the authentication (create_app's "mounted behind
            # authentication of your own").
            jobq_app = create_app(backend_app(backend), token=None, limits=limits)
        return jobq_app

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == prefix or path.startswith(prefix + "/")):
            await django_app(scope, receive, send)
            return
        refusal = await _refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        root_path = scope.get("root_path", "")
        child = {**scope, "app_root_path": scope.get("app_root_path", root_path), "root_path": root_path + prefix}
        await jobq()(child, receive, send)

    return application


async def _refusal(scope: Scope) -> Response | None:
    """Why this request may not reach jobq (a response saying so), or None when it may."""
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope.get("headers", [])}
    user = await _user(headers)
    if not (user.is_active and user.is_staff):
        if scope.get("method") in ("GET", "HEAD") and user.is_anonymous:
            target = scope.get("path", "/") + (
                f"?{scope['query_string'].decode()}" if scope.get("query_string") else ""
            )
            return RedirectResponse(f"{settings.LOGIN_URL}?next={quote(target)}", status_code=302)
        return PlainTextResponse("jobq: staff only (sign in to Django as a staff user)", status_code=403)
    if scope.get("method") not in SAFE_METHODS and not _same_origin(headers):
        return PlainTextResponse("jobq: cross-site request refused", status_code=403)
    return None


async def _user(headers: dict[str, str]) -> Any:
    """The Django user of the request's session cookie (AnonymousUser without one)."""
    request = HttpRequest()
    cookies = parse_cookie(headers.get("cookie", ""))
    engine = import_module(settings.SESSION_ENGINE)
    request.session = engine.SessionStore(cookies.get(settings.SESSION_COOKIE_NAME))
    return await aget_user(request)


def _same_origin(headers: dict[str, str]) -> bool:
    """A browser says where a request comes from; a request that says nothing was not made by a page elsewhere."""
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = headers.get("origin")
    return origin is None or origin.split("://", 1)[-1] == headers.get("host")
