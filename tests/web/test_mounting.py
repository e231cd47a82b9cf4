"""``create_app`` mounted under a prefix inside another ASGI application."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from jobq.web import create_app

from .conftest import AUTH, TOKEN, UNLIMITED, copy_of, messaging_app, problem, running


def home(request: Request) -> PlainTextResponse:
    return PlainTextResponse("the host app")


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Iterator[str]:
    app = messaging_app(copy_of(template, tmp_path))
    host = Starlette(routes=[Route("/", home), Mount("/jobq", app=create_app(app, token=TOKEN, limits=UNLIMITED))])
    with running(host) as url:
        yield url
    app.close()


def test_the_api_answers_under_the_prefix(site: str) -> None:
    with httpx.Client(base_url=site, headers=AUTH) as client:
        assert client.get("/jobq/health").json() == {"status": "ok"}
        assert client.get("/jobq/api/dlq/count").json() == {"count": 7}
        assert client.get("/jobq/metrics").status_code == 200
        problem(client.get("/jobq/api/nope"), 404)
        created = client.post("/jobq/api/jobs", json={"task": "render_chart", "args": ["scene-9"]})
        assert created.headers["location"].startswith("/jobq/api/jobs/")
        assert client.get(created.headers["location"]).json()["payload"] == {"args": ["scene-9"], "kwargs": {}}


def test_the_prefix_keeps_its_security_and_leaves_the_host_alone(site: str) -> None:
    assert httpx.get(f"{site}/jobq/health").status_code == 200  # public under the prefix too
    problem(httpx.get(f"{site}/jobq/api/stats"), 401)
    assert httpx.get(f"{site}/").text == "the host app"


def test_the_document_names_the_prefix_as_its_server(site: str) -> None:
    document = httpx.get(f"{site}/jobq/api/openapi.json", headers=AUTH).json()
    assert document["servers"] == [{"url": "/jobq"}]
