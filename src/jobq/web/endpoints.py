"""Endpoints described once: the metadata that routes a request, validates it and documents it (OpenAPI).

A handler is a plain synchronous function of a validated ``Call``; it runs in a worker thread, because
``App`` talks to the database synchronously.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from jobq.redact import Redactor
from jobq.web.auth import ACCESS_KEY, Access, caller
from jobq.web.problems import Problem, problem_response, status_of
from jobq.web.values import Fields, Invalid, Kind, Schema


@dataclass(frozen=True)
class Param:
    """A query or path parameter."""

    kind: Kind[Any]
    description: str
    default: Any = None
    """The value when the parameter is left out (None: it is left out of ``Call.query`` too)."""


@dataclass(frozen=True)
class JsonBody:
    """A JSON object as the request body."""

    fields: Fields
    description: str
    required: bool = False
    """False: an empty body means ``{}``."""


@dataclass(frozen=True)
class TextBody:
    """A text request body of one of these media types (UTF-8)."""

    media_types: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Reply:
    """A success response, for the OpenAPI document."""

    status: int
    description: str
    schema: Schema | None = None
    media_types: tuple[str, ...] = ("application/json",)
    headers: Mapping[str, str] = field(default_factory=dict)
    """Response header → its description."""
    links: Mapping[str, tuple[str, str, str]] = field(default_factory=dict)
    """OpenAPI links: name → (operation id, its parameter, a runtime expression giving its value)."""


@dataclass(frozen=True)
class Call:
    """A validated request, as a handler sees it."""

    query: dict[str, Any]
    path: dict[str, Any]
    body: Any
    access: Access | None
    by: str
    """Who is calling, for the audit trail (``jobq.web.auth.caller``)."""
    root_path: str
    """Where the app is mounted ("" at the root): links in responses start with it."""


Handler = Callable[[Call], Response]


@dataclass(frozen=True)
class Endpoint:
    """One operation: method and path, what it accepts, what it answers, and the function that does it."""

    method: str
    path: str
    name: str
    summary: str
    tag: str
    handler: Handler
    replies: tuple[Reply, ...]
    query: Mapping[str, Param] = field(default_factory=dict)
    path_params: Mapping[str, Param] = field(default_factory=dict)
    body: JsonBody | TextBody | None = None
    errors: tuple[int, ...] = ()
    """Problem statuses the handler itself answers (404, 409, 422 ...), besides those every endpoint may."""
    public: bool = False
    storage: bool = True
    """Whether it reads the database (and may answer 503 when that is unavailable)."""

    def problems(self) -> list[int]:
        """Every problem status this endpoint may answer."""
        statuses = set(self.errors)
        if not self.public:
            statuses |= {401, 429}
        if self.method not in ("GET", "HEAD"):
            statuses.add(403)
        if self.query or self.path_params:
            statuses.add(400)
        if self.body is not None:
            statuses |= {400, 413, 415, 422}
        if self.storage:
            statuses.add(503)
        return sorted(statuses)

    def respond(self, redactor: Redactor) -> Callable[[Request], Awaitable[Response]]:
        """The request handler: validate, run the handler in a thread, turn errors into problems."""

        async def respond(request: Request) -> Response:
            try:
                call = await self._call(request)
                return await run_in_threadpool(self.handler, call)
            except Problem as problem:
                return problem_response(problem.status, redactor.text(problem.detail), headers=problem.headers)
            except HTTPException as exc:  # the body grew past the limit while it was read
                return problem_response(exc.status_code, exc.detail, headers=exc.headers)
            except Exception as exc:
                status = status_of(exc)
                if status is None:
                    raise  # a bug: a 500, logged by the server
                return problem_response(status, redactor.text(str(exc) or type(exc).__name__))

        return respond

    async def _call(self, request: Request) -> Call:
        return Call(
            query=_parse_query(self.query, request),
            path={name: _parse(param, request.path_params[name], name) for name, param in self.path_params.items()},
            body=await _parse_body(self.body, request),
            access=request.scope.get(ACCESS_KEY),
            by=caller(request.scope, front_end="api"),
            root_path=request.scope.get("root_path", ""),
        )


def routes(endpoints: Iterable[Endpoint], redactor: Redactor) -> list[Route]:
    """One route per path, dispatching on the method (so a 405 lists every method the path has in Allow)."""
    by_path: dict[str, dict[str, Callable[[Request], Awaitable[Response]]]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint.respond(redactor)
    return [_route(path, handlers) for path, handlers in by_path.items()]


def _route(path: str, handlers: dict[str, Callable[[Request], Awaitable[Response]]]) -> Route:
    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await handlers[method](request)

    return Route(path, dispatch, methods=list(handlers))


def _parse(param: Param, text: str, name: str) -> Any:
    try:
        return param.kind.from_text(text)
    except Invalid as exc:
        raise Problem(400, f"{name}: {exc}") from None


def _parse_query(params: Mapping[str, Param], request: Request) -> dict[str, Any]:
    given: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name not in params:
            expected = ", ".join(params) or "none"
            raise Problem(400, f"unknown query parameter {name!r} (expected: {expected})")
        if name in given:
            raise Problem(400, f"query parameter {name!r} is given more than once")
        given[name] = value
    parsed = {name: _parse(params[name], value, name) for name, value in given.items()}
    defaults = {name: param.default for name, param in params.items() if param.default is not None}
    return {**defaults, **parsed}


async def _parse_body(spec: JsonBody | TextBody | None, request: Request) -> Any:
    if spec is None:
        return None
    raw = await request.body()
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if isinstance(spec, TextBody):
        if not raw:
            raise Problem(400, f"this request needs a body ({' or '.join(spec.media_types)})")
        if media_type not in spec.media_types:
            raise Problem(415, f"send the body as {' or '.join(spec.media_types)}, not {media_type or 'no type'}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(400, "the body is not UTF-8 text") from None
    if not raw.strip():
        if spec.required:
            raise Problem(400, "this request needs a JSON body")
        return _fields(spec.fields, {})
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Problem(415, f"send the body as application/json, not {media_type or 'no type'}")
    return _fields(spec.fields, decode_json(raw))


def _fields(fields: Fields, value: object) -> dict[str, Any]:
    try:
        return fields.from_json(value)
    except Invalid as exc:
        raise Problem(422, str(exc)) from None


def decode_json(raw: bytes) -> Any:
    """A request body as JSON: standard JSON only (no NaN), with text every database can store."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise Problem(400, f"the body is not valid JSON: {exc}") from None
    if not _storable(value):
        raise Problem(400, "the body holds a NUL character or a lone surrogate, which cannot be stored")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _storable(value: Any) -> bool:
    """No NUL (PostgreSQL refuses it) and no lone surrogate (not UTF-8) anywhere in a decoded JSON value."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and _has_surrogate(item)):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
