"""Security in the browser: sign-in and its cookie, read-only mode, inert payloads, cross-site requests refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from jobq.redrive import RedriveId
from tests.web.conftest import interrupted_redrive, running

from .conftest import READ_ONLY_TOKEN, TOKEN, XSS_TITLE, Server, ServerFactory, screenshot, sign_in

LETTER_ROWS = "table[data-letters] tbody tr"
Form = dict[str, str | float | bool]  # what Playwright's request.post(form=...) takes


def snapshot(server: Server) -> list[tuple[str, str]]:
    """Each dead letter's id and resolution: what an action would change."""
    return [(letter.id, letter.resolution) for letter in server.app.dlq.list(limit=1000)]


def test_sign_in_sets_a_strict_http_only_cookie(page: Page, context: BrowserContext, shared: Server) -> None:
    page.goto(f"{shared.url}/dashboard/dead-letters?task=sms.send")
    assert "/dashboard/sign-in?next=" in page.url
    page.fill("input[name=token]", "not-the-token")
    page.click("button[type=submit]")
    expect(page.locator("[data-sign-in-error]")).to_have_text("That is not a token of this server.")
    page.fill("input[name=token]", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{shared.url}/dashboard/dead-letters?task=sms.send")  # where the browser was headed

    (session,) = [cookie for cookie in context.cookies() if cookie["name"] == "jobq_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict" and session["path"] == "/dashboard"
    assert TOKEN not in session["value"]
    # Playwright types what cookies() gives as Cookie, which lacks SetCookieParam's "url", so strict mypy will not
    # let one be passed back to add_cookies, though Playwright takes cookies() output as is.
    context.add_cookies([{**session, "value": session["value"][:-3] + "AAA"}])  # type: ignore[typeddict-item]
    page.goto(f"{shared.url}/dashboard/")
    assert "/dashboard/sign-in" in page.url and "why=expired" in page.url
    expect(page.locator(".flash")).to_contain_text("Your session ended")


def test_sign_out_ends_the_session(page: Page, shared: Server) -> None:
    sign_in(page, shared)
    page.click("text=Sign out")
    expect(page.locator(".flash")).to_have_text("Signed out.")
    page.goto(f"{shared.url}/dashboard/groups")
    assert "/dashboard/sign-in" in page.url


def test_read_only_token_hides_actions_and_the_server_refuses_them(page: Page, server: Server) -> None:
    redrive_id = interrupted_redrive(server.app, after=1, task="email.send")
    before = snapshot(server)
    sign_in(page, server, READ_ONLY_TOKEN)
    expect(page.locator(".pill-readonly")).to_have_text("read-only")
    page.goto(f"{server.url}/dashboard/dead-letters")
    expect(page.locator(LETTER_ROWS).first).to_be_visible()
    expect(page.locator("input[name=id]")).to_have_count(0)
    expect(page.locator("[data-actionbar]")).to_have_count(0)
    screenshot(page, "11-read-only")
    page.locator(LETTER_ROWS).first.locator("td.cell-message a").click()
    expect(page.locator("[data-attempts]")).to_be_visible()
    expect(page.locator("[data-letter-actions]")).to_have_count(0)
    page.goto(f"{server.url}/dashboard/groups")
    expect(page.locator("table[data-groups] button")).to_have_count(0)

    page.goto(f"{server.url}/dashboard/redrives/{redrive_id}")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "running")
    expect(page.locator("[data-redrive-actions]")).to_have_count(0)

    # The forms are gone, but a hand-made request with this session's own CSRF token is refused all the same.
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    attempts = {
        "/dashboard/actions": {"action": "purge", "scope": "all"},
        "/dashboard/actions/run": {"action": "purge", "scope": "all"},
        f"/dashboard/redrives/{redrive_id}/run": {"action": "cancel"},
    }
    for path, form in attempts.items():
        response = page.request.post(
            f"{server.url}{path}", form={"csrf": csrf, **form},
            headers={"Sec-Fetch-Site": "same-origin", "Origin": server.url},
        )  # fmt: skip
        assert response.status == 403, response.text()
        assert "may only read" in response.text()
    assert snapshot(server) == before
    redrive = server.app.dlq.get_redrive(RedriveId(redrive_id))
    assert redrive is not None and redrive.state == "running"


def test_script_in_a_payload_or_an_error_message_renders_as_text(page: Page, shared: Server) -> None:
    sign_in(page, shared)
    page.goto(f"{shared.url}/dashboard/dead-letters?task=report.build")
    row = page.locator(LETTER_ROWS).first
    expect(row.locator(".msg")).to_have_text(f"cannot build the report {XSS_TITLE}")
    row.locator("td.cell-message a").click()
    expect(page.locator("[data-error-message]")).to_have_text(f"cannot build the report {XSS_TITLE}")
    expect(page.locator("[data-payload] pre")).to_contain_text('"title": "<script>alert(\'xss\')</script>')
    assert page.locator("img").count() == 0  # the <img onerror> stayed text
    assert page.locator("script").count() == 1  # ours, and only ours
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    screenshot(page, "12-xss-inert")
    page.goto(f"{shared.url}/dashboard/groups")
    expect(page.locator("table[data-groups]")).to_contain_text("<script>alert('xss')</script>")
    # The page fixture fails the test if any alert() ran.


def test_a_cross_site_request_or_a_missing_csrf_token_is_refused(page: Page, server: Server) -> None:
    before = snapshot(server)
    sign_in(page, server)
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    purge_all: Form = {"action": "purge", "scope": "all", "task": "sms.send"}
    attempts: dict[str, tuple[Form, dict[str, str]]] = {
        "cross-site": ({"csrf": csrf, **purge_all}, {"Sec-Fetch-Site": "cross-site"}),
        "same-site": ({"csrf": csrf, **purge_all}, {"Sec-Fetch-Site": "same-site"}),
        "foreign origin": ({"csrf": csrf, **purge_all}, {"Origin": "https://evil.example"}),
        "no token": (purge_all, {"Sec-Fetch-Site": "same-origin"}),
        "wrong token": ({"csrf": csrf[:-2] + "xx", **purge_all}, {"Sec-Fetch-Site": "same-origin"}),
    }
    for name, (form, headers) in attempts.items():
        response = page.request.post(f"{server.url}/dashboard/actions/run", form=form, headers=headers)
        assert response.status == 403, (name, response.text())
    assert snapshot(server) == before
    # The same request from the dashboard's own page is accepted: the checks refuse only what they should.
    response = page.request.post(f"{server.url}/dashboard/actions/run", form={"csrf": csrf, **purge_all},
                                 headers={"Sec-Fetch-Site": "same-origin"}, max_redirects=0)  # fmt: skip
    assert response.status == 303


@pytest.fixture
def attacker() -> Iterator[str]:
    """Another site on this machine (another port of 127.0.0.1: same-site, so SameSite cookies still go along)."""

    def lure(request: Request) -> HTMLResponse:
        target = request.query_params["target"]
        return HTMLResponse(
            f"""<form id="f" method="post" action="{target}/dashboard/actions/run">
            <input name="action" value="purge"><input name="scope" value="all"><input name="csrf" value="guess">
            </form><script>document.getElementById("f").submit()</script>"""
        )

    with running(Starlette(routes=[Route("/", lure)])) as url:
        yield url


def test_a_form_on_another_site_cannot_act_for_a_signed_in_operator(page: Page, server: Server, attacker: str) -> None:
    before = snapshot(server)
    sign_in(page, server)
    with page.expect_response(re.compile(r".*/dashboard/actions/run$")) as answer:
        page.goto(f"{attacker}/?target={server.url}")
    assert answer.value.status == 403
    expect(page.locator("[data-reason]")).to_contain_text("same-site request")
    assert snapshot(server) == before


def test_an_open_server_needs_no_sign_in_but_still_refuses_forged_posts(page: Page, start: ServerFactory) -> None:
    server = start(token=None, read_only_token=None)  # e.g. mounted behind the host application's own login
    before = snapshot(server)
    page.goto(f"{server.url}/dashboard/sign-in")
    page.wait_for_url(f"{server.url}/dashboard/")
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator("text=Sign out")).to_have_count(0)
    page.goto(f"{server.url}/dashboard/dead-letters")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value") or ""
    run = f"{server.url}/dashboard/actions/run"
    purge_all: Form = {"action": "purge", "scope": "all"}
    cross_site = page.request.post(run, form={"csrf": csrf, **purge_all}, headers={"Sec-Fetch-Site": "cross-site"})
    no_token = page.request.post(run, form=purge_all, headers={"Sec-Fetch-Site": "same-origin"})
    assert (cross_site.status, no_token.status) == (403, 403)
    assert snapshot(server) == before
