"""A real uvicorn server on loopback, in a thread, over a real SQLite file full of real failures.

One database is built per session by running a small messaging app's jobs through a worker: dead letters of
each class, carrying phone numbers, e-mail addresses and API tokens in their payloads and error messages (to
see redaction), succeeded and scheduled jobs. Each server gets its own copy of that file.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

import jobq
from jobq.web import Limits, create_app

TOKEN = "write-token-0123456789abcdef"
READ_ONLY_TOKEN = "read-only-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
READ_ONLY_AUTH = {"Authorization": f"Bearer {READ_ONLY_TOKEN}"}
UNLIMITED = Limits(rate=None)

PHONE = "+15550001111"
EMAIL = "ann@example.com"
API_TOKEN = "sk_live_abcdef123456"


class ProviderError(Exception):
    """An HTTP error of the SMS provider, with the status the classifier reads."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code


def messaging_app(url: str) -> jobq.App:
    """A small messaging service whose tasks fail in each of the ways the classifier knows."""
    app = jobq.App(url)

    @app.task(name="send_sms", max_attempts=2, backoff=0)
    def send_sms(to: str, body: str, api_token: str = "") -> None:
        if to.startswith("+1555000"):
            raise ProviderError(400, f"invalid phone number {to}")
        if to.startswith("+1555999"):
            raise TimeoutError("provider timed out")

    @app.task(name="send_email", max_attempts=2, backoff=0)
    def send_email(email: str, password: str = "") -> None:
        raise RuntimeError(f"mailbox {email} is full")

    @app.task(name="render_chart", max_attempts=1)
    def render_chart(scene: str) -> None:
        raise OSError(f"disk full writing {scene}.png")

    return app


OLD_LETTER: dict[str, Any] = {
    "id": "00OLDDEADLETTER00000000001", "job_id": "00OLDJOB000000000000000001", "task": "send_sms",
    "queue": "default", "tenant": "initech", "payload": {"args": [], "kwargs": {"to": "+15550009999"}},
    "attempts": 3, "error_type": "OSError", "error_message": "disk full", "error_class": "system_error",
    "fingerprint": "0ld0ld0ld0ld0ld0", "failed_at": "2020-01-01T00:00:00+00:00", "resolution": "open",
}  # fmt: skip
"""A dead letter from long ago (imported: a worker cannot make one), for purges by age."""


def fill(app: jobq.App) -> None:
    """Jobs of every outcome: succeeded, dead (one of each class, three alike), scheduled; a 2020 dead letter."""
    app.enqueue("send_sms", {"to": "+15551230001", "body": "hi", "api_token": API_TOKEN}, tenant="acme")
    for number in range(3):
        app.enqueue("send_sms", {"to": f"+155500011{number}1", "body": "hi", "api_token": API_TOKEN}, tenant="acme")
    app.enqueue("send_sms", {"to": "+15559990001", "body": "hi"}, tenant="globex", key="msg-42")
    app.enqueue("send_email", {"email": EMAIL, "password": "hunter2"}, tenant="globex")
    app.enqueue("render_chart", {"scene": "scene-7"}, key="scene-7")
    app.run_worker(concurrency=2, burst=True, install_signal_handlers=False)
    app.enqueue("send_sms", {"to": "+15551230002", "body": "later"}, tenant="acme", delay=3600)
    app.dlq.import_(io.StringIO(json.dumps(OLD_LETTER)))


class Crash(Exception):
    """The process driving a redrive dies (any error but Ctrl-C leaves the redrive running, to be resumed)."""


def interrupted_redrive(app: jobq.App, *, after: int, by: str = "ops", **filters: Any) -> str:
    """A redrive by filter whose process died after ``after`` letters: still marked running; its id."""
    handled = itertools.count(1)

    def progress(result: object) -> None:
        if next(handled) == after:
            raise Crash

    with pytest.raises(Crash):
        app.dlq.replay_many(by=by, progress=progress, **filters)
    return app.dlq.list_redrives(limit=1)[0].id


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The populated database every server copies."""
    db = tmp_path_factory.mktemp("template") / "jobq.db"
    with messaging_app(f"sqlite:///{db}") as app:
        fill(app)
    return db


def copy_of(template: Path, folder: Path) -> str:
    """A fresh copy of the template database; its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, folder / "jobq.db")
    return f"sqlite:///{folder / 'jobq.db'}"


@contextmanager
def running(asgi: ASGIApp) -> Iterator[str]:
    """Serve ``asgi`` with uvicorn on a free loopback port, in a thread; yields its base URL."""
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only then (else each keep-alive answer waits ~40 ms for
    # a delayed ACK). uvicorn's own sockets, as `jobq serve` opens them, are created that way.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(asgi, lifespan="off", log_level="warning", access_log=False, ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Live:
    """A running server on its own database: its URL, the ``App`` on that database, and clients."""

    url: str
    app: jobq.App

    def client(self, headers: dict[str, str] | None = None, **options: Any) -> httpx.Client:
        """An HTTP client of this server (with the write token unless told otherwise)."""
        return httpx.Client(base_url=self.url, headers=AUTH if headers is None else headers, timeout=10, **options)


ServerFactory = Callable[..., Live]


@pytest.fixture
def start(template: Path, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start servers on fresh copies of the template: ``start(token=..., limits=...)`` (create_app's options)."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start_server(**options: Any) -> Live:
            app = stack.enter_context(messaging_app(copy_of(template, tmp_path / f"server{next(numbers)}")))
            options = {"token": TOKEN, "read_only_token": READ_ONLY_TOKEN, "limits": UNLIMITED, **options}
            return Live(stack.enter_context(running(create_app(app, **options))), app)

        yield start_server


@pytest.fixture
def live(start: ServerFactory) -> Live:
    """A server with both tokens and no rate limit, on its own copy of the database."""
    return start()


@pytest.fixture
def client(live: Live) -> Iterator[httpx.Client]:
    """A client of ``live`` with the write token."""
    with live.client() as http:
        yield http


@pytest.fixture(scope="module")
def shared_reader(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One server for a module's tests that only read (cheaper than one per test)."""
    url = copy_of(template, tmp_path_factory.mktemp("reader"))
    app = messaging_app(url)
    with running(create_app(app, token=TOKEN, read_only_token=READ_ONLY_TOKEN, limits=UNLIMITED)) as base:
        yield Live(base, app)
    app.close()


@pytest.fixture
def reader(shared_reader: Live) -> Iterator[httpx.Client]:
    """A client of the module's shared server, with the write token (the tests using it only read)."""
    with shared_reader.client() as http:
        yield http


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The RFC 9457 problem of a response that must have ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and "\n" not in body["detail"], body
    return body
