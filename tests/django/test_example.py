"""examples/django: its README's walkthrough runs as written (uvicorn, manage.py, curl, in subprocesses, on real
SQLite files), then the dashboard is checked behind Django's staff login over real HTTP."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.test_readme import blocks, commands

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "django"
BIN = Path(sys.executable).parent


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


class Shop:
    """The example project copied to a fresh folder, and what the reader started in it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBQ_", "DJANGO_"))}
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.server: subprocess.Popen[str] | None = None
        self.outputs: list[str] = []

    def run(self, command: str) -> str:
        if command.startswith("pip install "):
            return ""  # this environment has the extras (make test installs .[django,dev])
        if command.startswith("cd "):
            return ""  # the copy is the working directory already
        if command.startswith("uvicorn "):
            self.start(command)
            return ""
        command = command.replace("8000", self.port).replace("localhost:", "127.0.0.1:")
        if command.startswith("curl "):
            command = "curl --fail --silent --show-error " + command.removeprefix("curl ")
        if re.search(r"\bID\b", command):
            command = re.sub(r"\bID\b", self.open_letter(), command)
        done = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        self.outputs.append(done.stdout)
        return done.stdout

    def start(self, command: str) -> None:
        command = command.replace("8000", self.port) + " --host 127.0.0.1"
        self.server = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=self.folder, env=self.env, text=True,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (
                f"uvicorn died: {self.server.stderr.read() if self.server.stderr else ''}"
            )
            try:
                httpx.get(f"{self.url}/admin/login/", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("the shop did not start")

    def open_letter(self) -> str:
        listed = json.loads(self.run("python manage.py jobq --json dlq list"))
        letters = [letter for letter in listed["dead_letters"] if letter["resolution"] == "open"]
        assert letters, f"the README needs a dead letter here: {self.outputs}"
        return str(letters[0]["id"])

    def stop(self) -> None:
        if self.server is not None:
            if self.server.poll() is None:
                self.server.send_signal(signal.SIGINT)
                self.server.wait(10)
            if self.server.stderr is not None:
                self.server.stderr.close()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    folder = tmp_path / "django"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", "*.db*"))
    running = Shop(folder)
    yield running
    running.stop()


def test_the_walkthrough_runs_as_written_and_the_dashboard_is_for_staff(shop: Shop) -> None:
    for block in blocks(EXAMPLE / "README.md"):
        assert block.lang == "sh"
        for command in commands(block.body):
            shop.run(command)
    _migrated, _admin, placed, _failing, _worker, ok, failed, listed = shop.outputs[:8]
    assert json.loads(placed)["order"] == 1
    assert json.loads(ok) == {"order": 1, "status": "SUCCESSFUL", "attempts": 1, "errors": [],
                              "return_value": {"order": 1, "sent_to": "ann@example.com"}}  # fmt: skip
    failure = json.loads(failed)
    assert failure["status"] == "FAILED"
    assert failure["errors"] == ["orders.tasks.InvalidAddress"]  # a ValueError: user_error, no retry
    assert "orders.tasks.send_receipt" in listed and "user_error" in listed
    staff_only(shop)


def staff_only(shop: Shop) -> None:
    """The dashboard under /jobq/: Django's login first, staff only, same-origin changes only."""
    with httpx.Client(base_url=shop.url, timeout=10) as browser:
        refused = browser.get("/jobq/dashboard/")
        assert refused.status_code == 302
        assert refused.headers["location"] == "/admin/login/?next=/jobq/dashboard/"
        assert browser.get("/jobq/api/stats").status_code == 302
        assert browser.post("/jobq/api/jobs", json={"task": "x"}).status_code == 403
        sign_in(browser, "admin", "change-me")
        page = browser.get("/jobq/dashboard/")
        assert page.status_code == 200 and "Dead letters" in page.text
        stats = browser.get("/jobq/api/stats").json()
        assert stats["queues"]["emails"]["succeeded"] >= 1
        cross_site = browser.post("/jobq/api/jobs", json={"task": "x"}, headers={"Sec-Fetch-Site": "cross-site"})
        assert cross_site.status_code == 403
        receipt = {"task": "orders.tasks.send_receipt", "kwargs": {"order_id": 1, "email": "a@b.test", "item": "x"}}
        bad = {"task": "orders.tasks.send_receipt", "kwargs": {}}
        same_site = {"Sec-Fetch-Site": "same-origin"}
        assert browser.post("/jobq/api/jobs", json=receipt, headers=same_site).status_code == 201
        assert browser.post("/jobq/api/jobs", json=bad, headers=same_site).status_code == 422  # its signature
        assert browser.get("/orders/1/receipt").status_code == 200  # Django's own pages are Django's
    # A signed-in user who is not staff (the admin's form would refuse them, so their session is made directly).
    session = shop.run("python manage.py shell -c " + shlex.quote(NON_STAFF_SESSION)).strip().splitlines()[-1]
    with httpx.Client(base_url=shop.url, timeout=10, cookies={"sessionid": session}) as clerk:
        assert clerk.get("/jobq/dashboard/").status_code == 403
        assert clerk.get("/jobq/api/stats").status_code == 403


NON_STAFF_SESSION = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
clerk = User.objects.create_user("clerk", password="pw")
session = SessionStore()
session[SESSION_KEY] = str(clerk.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = clerk.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def sign_in(browser: httpx.Client, username: str, password: str) -> None:
    form = browser.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    answer = browser.post("/admin/login/?next=/admin/", data={
        "csrfmiddlewaretoken": token[1], "username": username, "password": password, "next": "/admin/",
    }, headers={"Referer": f"{browser.base_url}/admin/login/"})  # fmt: skip
    assert answer.status_code == 302 and answer.headers["location"] == "/admin/", answer.text[:500]
    assert "sessionid" in browser.cookies
