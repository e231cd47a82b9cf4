"""Every page renders, looks like itself, and is kept as a screenshot in artifacts/dashboard/."""

from __future__ import annotations

from playwright.sync_api import Page

from .conftest import Server, screenshot, sign_in


def test_every_page_renders_and_is_kept_as_a_screenshot(page: Page, shared: Server) -> None:
    page.goto(f"{shared.url}/dashboard/")
    screenshot(page, "01-sign-in")
    sign_in(page, shared)
    screenshot(page, "02-overview")
    page.click("nav >> text=Dead letters")
    screenshot(page, "03-dead-letters")
    page.click("nav >> text=Groups")
    screenshot(page, "04-groups")
    page.click("nav >> text=Jobs")
    screenshot(page, "06-jobs")
    page.goto(f"{shared.url}/dashboard/dead-letters?q=timed+out&since=30m")
    page.click("table[data-letters] tbody tr >> nth=0 >> td.cell-message a")
    page.click("[data-attempt='2'] summary")
    screenshot(page, "05-dead-letter")
