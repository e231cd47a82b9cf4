"""The OpenAPI 3.1 document, generated from the endpoints' own metadata (so it says what the server does)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from jobq.web.endpoints import Endpoint, JsonBody, Param, Reply
from jobq.web.problems import PROBLEM_JSON
from jobq.web.values import Schema

PROBLEM: Schema = {
    "type": "object",
    "description": "An error (RFC 9457).",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "One line saying what went wrong."},
    },
}
_PROBLEM_HEADERS = {
    401: {"WWW-Authenticate": "The authentication scheme: Bearer."},
    429: {"Retry-After": "Seconds to wait before the next request."},
}


def document(
    endpoints: Iterable[Endpoint], *, schemas: Mapping[str, Schema], server_url: str, version: str
) -> dict[str, Any]:
    """The document for these endpoints; ``schemas`` are the components they refer to."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jobq",
            "version": version,
            "description": "The jobs and the dead-letter queue of one jobq database. Every response is "
            "PII-redacted; errors are application/problem+json.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": paths,
        "components": {
            "schemas": {**schemas, "Problem": PROBLEM},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": endpoint.name,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "responses": {
            **{str(reply.status): _reply(reply) for reply in endpoint.replies},
            **{str(status): _problem(status) for status in endpoint.problems()},
        },
    }
    parameters = [_parameter(name, param, "path") for name, param in endpoint.path_params.items()]
    parameters += [_parameter(name, param, "query") for name, param in endpoint.query.items()]
    if parameters:
        operation["parameters"] = parameters
    if isinstance(endpoint.body, JsonBody):
        operation["requestBody"] = {
            "required": endpoint.body.required,
            "description": endpoint.body.description,
            "content": {"application/json": {"schema": endpoint.body.fields.schema()}},
        }
    elif endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "description": endpoint.body.description,
            "content": {media_type: {"schema": {"type": "string"}} for media_type in endpoint.body.media_types},
        }
    if endpoint.public:
        operation["security"] = []
    return operation


def _parameter(name: str, param: Param, where: str) -> dict[str, Any]:
    schema = param.kind.schema()
    if param.default is not None:
        schema["default"] = param.default
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": param.description,
        "schema": schema,
    }


def _reply(reply: Reply) -> dict[str, Any]:
    content = {
        media_type: {"schema": reply.schema} if reply.schema is not None and media_type.endswith("json") else {}
        for media_type in reply.media_types
    }
    answer: dict[str, Any] = {"description": reply.description, "content": content}
    if reply.headers:
        answer["headers"] = _headers(reply.headers)
    if reply.links:
        answer["links"] = {
            name: {"operationId": operation, "parameters": {parameter: expression}}
            for name, (operation, parameter, expression) in reply.links.items()
        }
    return answer


def _problem(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in _PROBLEM_HEADERS:
        answer["headers"] = _headers(_PROBLEM_HEADERS[status])
    return answer


def _headers(headers: Mapping[str, str]) -> dict[str, Any]:
    return {name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()}
