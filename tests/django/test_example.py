"""examples/django: its README's walkthrough runs as written (uvicorn, manage.py, curl, in subprocesses, on real
SQLite files), then the dashboard is checked behind Django's staff login over real HTTP."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.acceptance.test_readme import blocks, commands
from tests.walkthrough import Walkthrough

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "django"


def open_letter(shop: Walkthrough) -> str:
    listed = json.loads(shop.run("python manage.py jobq --json dlq list"))
    letters = [letter for letter in listed["dead_letters"] if letter["resolution"] == "open"]
    assert letters, f"the README needs a dead letter here: {shop.outputs}"
    return str(letters[0]["id"])


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Walkthrough]:
    folder = tmp_path / "django"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3", "*.db*"))
    reader = Walkthrough(folder, probe="/admin/login/")
    reader.fill = lambda command: re.sub(r"\bID\b", open_letter(reader), command) if " ID" in command else command
    yield reader
    assert reader.stop() == [0]


def test_the_walkthrough_runs_as_written_and_the_dashboard_is_for_staff(shop: Walkthrough) -> None:
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


def staff_only(shop: Walkthrough) -> None:
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
