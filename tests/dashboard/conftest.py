"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright, against a real uvicorn
server on loopback, over a real SQLite file whose dead letters a worker made by running failing tasks.

One template database is built per session; every server gets its own copy. Screenshots of each page go
to ``artifacts/dashboard/``.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import random
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Playwright, sync_playwright

import jobq
from jobq.serialize import dead_letter_to_dict
from jobq.web import Limits, create_app
from tests.web.conftest import copy_of, running

CHROMIUM = os.environ.get("JOBQ_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "dashboard"

TOKEN = "dashboard-write-token-0123456789"
READ_ONLY_TOKEN = "dashboard-read-token-0123456789"
XSS_TITLE = "<script>alert('xss')</script><img src=x onerror=alert(2)>"
HOUR = 3600.0


class ProviderError(Exception):
    """An HTTP error of the SMS provider, with the status the classifier reads."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code


def shop_app(url: str, *, healthy: bool = False) -> jobq.App:
    """A small shop's background work, failing in each way the classifier knows until ``healthy``."""
    app = jobq.App(url)

    @app.task(name="sms.send", max_attempts=3, backoff=0)
    def send_sms(to: str, body: str, api_token: str = "") -> None:
        if to.startswith("+1555000"):
            raise ProviderError(400, f"invalid phone number {to}")
        if to.startswith("+1555999") and not healthy:
            raise TimeoutError("the SMS provider timed out after 10 s")

    @app.task(name="email.send", max_attempts=3, backoff=0)
    def send_email(email: str, password: str = "") -> None:
        if not healthy:
            raise RuntimeError(f"mailbox {email} is full")

    @app.task(name="chart.render", max_attempts=2, backoff=0)
    def render_chart(scene: str) -> None:
        if not healthy:
            raise OSError(f"disk full writing /var/charts/{scene}.png")

    @app.task(name="report.build", max_attempts=1)
    def build_report(title: str) -> None:
        raise ValueError(f"cannot build the report {title}")

    @app.task(name="invoice.sync", max_attempts=1)
    def sync_invoice(invoice: int) -> None:
        pass

    return app


def fill(app: jobq.App) -> None:
    """Real failures by a real worker, a few weeks of older letters (imported), successes and scheduled jobs."""
    tenants = ["acme", "globex", "initech", "umbrella"]
    for number in range(24):
        payload = {"to": f"+155500{number:05d}", "body": "Your code is 4711", "api_token": "sk_live_abc123"}
        app.enqueue("sms.send", payload, tenant=tenants[number % 4], key=f"msg-{number}")
    for number in range(6):
        app.enqueue("sms.send", {"to": f"+1555999{number:04d}", "body": "hi"}, tenant=tenants[number % 2])
    for number in range(4):
        app.enqueue("email.send", {"email": f"ann{number}@example.com", "password": "hunter2"}, tenant="globex")
    for scene in ("scene-7", "scene-8", "scene-9"):
        app.enqueue("chart.render", {"scene": scene}, key=scene, queue="charts")
    app.enqueue("report.build", {"title": XSS_TITLE}, tenant="acme")
    app.enqueue_many("invoice.sync", [{"invoice": number} for number in range(40)], tenant="acme")
    app.run_worker(concurrency=4, burst=True, install_signal_handlers=False, queues=["default", "charts"])
    app.enqueue("invoice.sync", {"invoice": 99}, delay=3600)
    app.dlq.import_(io.StringIO(history(app)))


def history(app: jobq.App) -> str:
    """Copies of the worker's letters as if they had failed over the last four weeks (JSON Lines)."""
    letters = [app.dlq.get(letter.id) for letter in app.dlq.list(limit=200)]
    chooser = random.Random(7)
    now = app.clock()
    lines = []
    for number in range(90):
        letter = chooser.choice(letters)
        assert letter is not None
        ago = chooser.choice([chooser.uniform(1, 24), chooser.uniform(24, 28 * 24)]) * HOUR
        data = dead_letter_to_dict(letter)
        data.update(id=ulid_at(now - ago, number), job_id=ulid_at(now - ago - 5, number), resolution="open",
                    failed_at=_iso(now - ago), replayed_as=None, replayed_at=None, recover_at=None)  # fmt: skip
        lines.append(json.dumps(data))
    return "\n".join(lines)


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def ulid_at(seconds: float, salt: int) -> str:
    """A sortable id of that moment (as ``jobq.job.new_id`` makes now)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    value = (int(seconds * 1000) << 80) | (salt * 7919 + 1)
    return "".join(alphabet[(value >> shift) & 31] for shift in range(125, -1, -5))


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The populated database every server copies."""
    db = tmp_path_factory.mktemp("dashboard") / "jobq.db"
    with shop_app(f"sqlite:///{db}") as app:
        fill(app)
    return db


@dataclass
class Server:
    """A running server: its base URL, and the ``App`` on its database (for checking what actions did)."""

    url: str
    app: jobq.App
    db_url: str


ServerFactory = Callable[..., Server]


@pytest.fixture
def start(template: Path, tmp_path: Path) -> Iterator[ServerFactory]:
    """Start a server on a fresh copy of the template: ``start(token=..., read_only_token=...)``."""
    numbers = itertools.count()
    with ExitStack() as stack:

        def start_server(**options: Any) -> Server:
            url = copy_of(template, tmp_path / f"server{next(numbers)}")
            app = stack.enter_context(shop_app(url))
            options = {"token": TOKEN, "read_only_token": READ_ONLY_TOKEN, "limits": Limits(rate=None), **options}
            return Server(stack.enter_context(running(create_app(app, **options))), app, url)

        yield start_server


@pytest.fixture
def server(start: ServerFactory) -> Server:
    """A server with both tokens, on its own copy of the database."""
    return start()


@pytest.fixture(scope="module")
def shared(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a module's tests that only read."""
    url = copy_of(template, tmp_path_factory.mktemp("shared"))
    app = shop_app(url)
    asgi = create_app(app, token=TOKEN, read_only_token=READ_ONLY_TOKEN, limits=Limits(rate=None))
    with running(asgi) as base:
        yield Server(base, app, url)
    app.close()


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    # Package scope, not session: Playwright's sync API keeps an event loop running in this thread until it
    # stops, and tests after this folder (hooks calling asyncio.run) must not find one.
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; Playwright never downloads a browser of its own."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) with a desktop-sized window."""
    browser_context = browser.new_context(viewport={"width": 1440, "height": 900})
    browser_context.set_default_timeout(10_000)
    yield browser_context
    browser_context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    """A tab that fails the test if any dialog opens (an injected script would open one)."""
    tab = context.new_page()
    dialogs: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", dismiss)
    yield tab
    assert dialogs == [], f"a dialog opened: {dialogs}"


def sign_in(page: Page, server: Server, token: str = TOKEN) -> None:
    """Sign in through the form, as a person would."""
    page.goto(f"{server.url}/dashboard/")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/dashboard/")


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as ``artifacts/dashboard/<name>.png``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
