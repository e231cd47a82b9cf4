"""``create_app``: the ASGI application of ``jobq serve``, also mountable inside another ASGI app."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import ASGIApp

from jobq import __version__
from jobq.app import App
from jobq.redact import Redactor
from jobq.web import api, metrics
from jobq.web.auth import AuthMiddleware, Tokens, bearer
from jobq.web.csrf import CsrfMiddleware
from jobq.web.dashboard import Dashboard, DashboardOptions
from jobq.web.endpoints import Call, Endpoint, Reply, routes
from jobq.web.limits import BodyLimitMiddleware, Limits, RateLimitMiddleware, TokenBuckets
from jobq.web.openapi import document
from jobq.web.problems import http_exception, server_error
from jobq.web.responses import ok
from jobq.web.sessions import SessionMiddleware

PUBLIC_PATHS = frozenset({"/health"})
"""Answered without a token, and not rate-limited (load balancers poll it)."""


def create_app(
    app: App,
    *,
    token: str | None,
    read_only_token: str | None = None,
    limits: Limits | None = None,
    redactor: Redactor | None = None,
    dashboard: DashboardOptions | bool = True,
) -> ASGIApp:
    """The HTTP API, ``/metrics``, ``/health`` and the dashboard (``/dashboard``) of ``app``, as an ASGI application.

    ``token`` may do everything and ``read_only_token`` only read (GET); requests send one as
    ``Authorization: Bearer <token>``. With neither, the server is open: only for an app mounted behind
    authentication of your own. ``limits`` bounds request rate and size, ``redactor`` hides PII in every
    response and page (default: ``app.redactor``). ``dashboard`` turns the dashboard off (False) or configures
    it (``DashboardOptions``); browsers sign in to it with either token. Mount it under a prefix in your own
    Starlette (or any ASGI) app::

        import os
        from starlette.applications import Starlette
        from starlette.routing import Mount
        import jobq.web

        queue = jobq.App("sqlite:///jobq.db")
        site = Starlette(routes=[Mount("/jobq", app=jobq.web.create_app(queue, token=os.environ["JOBQ_TOKEN"]))])

    The caller owns ``app``: close it when the server stops.
    """
    limits = limits or Limits()
    services = api.Services(app=app, redactor=redactor or app.redactor, limits=limits)
    endpoints = [*api.endpoints(services), _metrics_endpoint(app)]
    endpoints.append(_openapi_endpoint(endpoints))
    tokens = Tokens(token, read_only_token)
    board = None
    if dashboard is not False:
        options = dashboard if isinstance(dashboard, DashboardOptions) else None
        board = Dashboard(app, tokens=tokens, limits=limits, redactor=services.redactor, options=options)
    return Starlette(
        routes=[*routes(endpoints, services.redactor), *(board.routes() if board else [])],
        middleware=_middleware(tokens, limits, board),
        exception_handlers={HTTPException: http_exception, Exception: server_error},
    )


def _middleware(tokens: Tokens, limits: Limits, board: Dashboard | None) -> list[Middleware]:
    """Outermost first: shed floods before checking credentials, check them before reading bodies; the
    dashboard's sessions and CSRF checks last, on bounded bodies."""
    stack = []
    if limits.rate is not None:
        buckets = TokenBuckets(limits.rate, limits.burst)
        stack.append(Middleware(RateLimitMiddleware, buckets=buckets, exempt=PUBLIC_PATHS))
    sources = [bearer(tokens), *([board.sessions.source()] if board else [])]
    public = PUBLIC_PATHS | (board.public_paths() if board else frozenset())
    refusal = board.refusal if board else None
    stack.append(Middleware(AuthMiddleware, tokens=tokens, sources=sources, public=public, refusal=refusal))
    stack.append(Middleware(BodyLimitMiddleware, limit=limits.max_body_bytes))
    if board is not None:
        stack.append(Middleware(SessionMiddleware, sessions=board.sessions, guarded=board.guards))
        stack.append(Middleware(CsrfMiddleware, sessions=board.sessions, guarded=board.guards, refusal=refusal))
    return stack


def _metrics_endpoint(app: App) -> Endpoint:
    scrape = metrics.exposition(app)
    return Endpoint(
        "GET", "/metrics", "metrics", "Prometheus metrics: jobs, dead letters, the workers' counters and "
        "histograms", "overview", lambda call: scrape(),
        (Reply(200, "Prometheus text exposition.", media_types=("text/plain",)),),
    )  # fmt: skip


def _openapi_endpoint(endpoints: Sequence[Endpoint]) -> Endpoint:
    described = list(endpoints)

    def openapi(call: Call) -> Response:
        return ok(document(described, schemas=api.COMPONENTS, server_url=call.root_path, version=__version__))

    endpoint = Endpoint(
        "GET", "/api/openapi.json", "openapi", "This document", "overview", openapi,
        (Reply(200, "The OpenAPI 3.1 document.", {"type": "object"}),), storage=False,
    )  # fmt: skip
    described.append(endpoint)
    return endpoint
