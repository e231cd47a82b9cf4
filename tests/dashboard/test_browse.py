"""Reading in the browser: filters, pagination, groups, a dead letter with every attempt, jobs by state."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from .conftest import Server, screenshot, sign_in

LETTER_ROWS = "table[data-letters] tbody tr"


def test_filters_narrow_the_list_to_what_app_dlq_counts(page: Page, shared: Server) -> None:
    dlq = shared.app.dlq
    sign_in(page, shared)
    page.goto(f"{shared.url}/dashboard/dead-letters")
    expect(page.locator("[data-matching]")).to_have_text(f"{dlq.count():,}")

    page.fill("input[name=task]", "sms.send")
    page.select_option("select[name=class]", "user_error")  # a choice applies at once
    page.wait_for_url("**class=user_error**")
    assert "q=" not in page.url and "task=sms.send" in page.url  # empty fields stay out of the URL
    expected = dlq.count(task="sms.send", error_class="user_error")
    expect(page.locator("[data-matching]")).to_have_text(f"{expected:,}")
    expect(page.locator(f"{LETTER_ROWS} >> text=user error")).to_have_count(min(expected, 50))

    page.fill("input[name=q]", "TIMED OUT")
    page.select_option("select[name=class]", "")
    page.wait_for_url("**q=TIMED+OUT**")
    timeouts = dlq.count(task="sms.send", search="timed out")
    assert timeouts > 0
    expect(page.locator(LETTER_ROWS)).to_have_count(timeouts)
    for message in page.locator(f"{LETTER_ROWS} .msg").all_inner_texts():
        assert "timed out" in message

    page.goto(f"{shared.url}/dashboard/dead-letters?since=2h&resolution=open")
    expect(page.locator("[data-matching]")).to_have_text(f"{dlq.count(since=timedelta(hours=2), resolution='open'):,}")
    expect(page.locator("[data-tab=open]")).to_have_class("active")

    page.goto(f"{shared.url}/dashboard/dead-letters?since=yesterday-ish")
    expect(page.locator("[data-filter-error]")).to_contain_text("since: expected a duration ago")
    expect(page.locator(LETTER_ROWS)).to_have_count(0)


def test_pages_follow_the_cursor_without_repeating_a_letter(page: Page, shared: Server) -> None:
    sign_in(page, shared)
    page.goto(f"{shared.url}/dashboard/dead-letters?limit=25")
    seen: list[str] = []
    for _ in range(3):
        ids = [row.get_attribute("data-letter") or "" for row in page.locator(LETTER_ROWS).all()]
        assert len(ids) == 25
        seen += ids
        page.click("[data-next]")
    assert len(set(seen)) == 75
    assert seen == [letter.id for letter in shared.app.dlq.list(limit=75)]
    expect(page.locator(".pager")).to_contain_text("76\u2013100 of")


def test_a_dead_letter_shows_every_attempt_with_its_traceback(page: Page, shared: Server) -> None:
    (letter,) = shared.app.dlq.list(limit=1, search="timed out", since=timedelta(minutes=30))
    full = shared.app.dlq.get(letter.id)
    assert full is not None and len(full.errors) == 3
    sign_in(page, shared)
    page.goto(f"{shared.url}/dashboard/dead-letters?q=timed+out&since=30m")
    page.locator(LETTER_ROWS).first.locator("td.cell-message a").click()
    expect(page.locator("[data-error-type]")).to_have_text("TimeoutError")
    attempts = page.locator("[data-attempt]")
    expect(attempts).to_have_count(3)
    assert [a.get_attribute("data-attempt") for a in attempts.all()] == ["3", "2", "1"]
    for number in range(3):
        attempt = attempts.nth(number)
        if number:
            attempt.locator("summary").click()  # the final attempt's traceback is open already
        expect(attempt.locator("pre")).to_contain_text("TimeoutError: the SMS provider timed out after 10 s")
        expect(attempt.locator("pre")).to_contain_text("in send_sms")
    expect(page.locator("[data-payload]")).to_contain_text('"to": "[redacted phone]"')
    expect(page.locator("[data-facts]")).to_contain_text(full.fingerprint)
    expect(page.locator("[data-lineage]")).to_contain_text("Not replayed yet")


def test_groups_count_each_failure_and_lead_to_its_letters(page: Page, shared: Server) -> None:
    groups = shared.app.dlq.groups("fingerprint")
    sign_in(page, shared)
    page.goto(f"{shared.url}/dashboard/groups")
    rows = page.locator("table[data-groups] tbody tr")
    expect(rows).to_have_count(len(groups))
    first = rows.first
    expect(first.locator("td.num")).to_have_text(f"{groups[0].count:,}")
    first.locator("text=View").click()
    expect(page.locator("[data-matching]")).to_have_text(f"{groups[0].count:,}")
    page.goto(f"{shared.url}/dashboard/groups?by=task")
    expect(page.locator("table[data-groups]")).to_contain_text("chart.render")


def test_jobs_by_state_and_a_job_page(page: Page, shared: Server) -> None:
    sign_in(page, shared)
    page.click("nav >> text=Jobs")
    page.click("[data-tab=succeeded]")
    rows = page.locator("table[data-jobs] tbody tr")
    expect(rows.first).to_contain_text("succeeded")
    assert all("succeeded" in text for text in rows.all_inner_texts())
    page.click("[data-tab=dead]")
    rows.first.locator("td").first.locator("a").click()
    expect(page.locator("text=Open its dead letter")).to_be_visible()
    screenshot(page, "07-job")
    page.click("text=Open its dead letter")
    expect(page.locator("[data-attempts]")).to_be_visible()
