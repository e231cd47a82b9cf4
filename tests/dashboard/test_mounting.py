"""The dashboard inside a host application, under a prefix: links, cookies and actions stay under it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from starlette.applications import Starlette
from starlette.routing import Mount

from jobq.web import Limits, create_app
from tests.web.conftest import copy_of, running

from .conftest import TOKEN, shop_app


@pytest.fixture
def site(template: Path, tmp_path: Path) -> Iterator[str]:
    app = shop_app(copy_of(template, tmp_path))
    host = Starlette(routes=[Mount("/ops/jobq", app=create_app(app, token=TOKEN, limits=Limits(rate=None)))])
    with running(host) as url:
        yield url
    app.close()


def test_under_a_prefix_everything_stays_under_it(page: Page, context: BrowserContext, site: str) -> None:
    page.goto(f"{site}/ops/jobq/")
    assert page.url == f"{site}/ops/jobq/dashboard/sign-in?next=/ops/jobq/dashboard/"
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site}/ops/jobq/dashboard/")
    (session,) = [cookie for cookie in context.cookies() if cookie["name"] == "jobq_session"]
    assert session["path"] == "/ops/jobq/dashboard"
    stylesheet = page.locator("link[rel=stylesheet]")
    expect(stylesheet).to_have_attribute("href", re.compile(r"^/ops/jobq/dashboard/static/dashboard\.css\?v="))
    page.click("nav >> text=Dead letters")
    page.wait_for_url(f"{site}/ops/jobq/dashboard/dead-letters")
    page.select_option("select[name=class]", "system_error")
    page.wait_for_url("**/ops/jobq/dashboard/dead-letters?class=system_error")
    page.locator("table[data-letters] tbody tr").first.locator("input[name=id]").check()
    page.click("[data-actionbar] >> text=Abandon…")
    page.fill("textarea[name=note]", "disk replaced")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_have_text("Abandoned 1 dead letter.")
    assert page.url == f"{site}/ops/jobq/dashboard/dead-letters?class=system_error"
