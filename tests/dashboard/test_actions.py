"""Acting in the browser: every action asks first, stating the count, then says what happened."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from jobq.job import DeadLetterId

from .conftest import Server, screenshot, shop_app, sign_in

LETTER_ROWS = "table[data-letters] tbody tr"


def run_worker(server: Server) -> None:
    """The replays run, on a worker whose disks and providers have recovered (user errors still fail)."""
    with shop_app(server.db_url, healthy=True) as app:
        app.run_worker(concurrency=2, burst=True, install_signal_handlers=False, queues=["default", "charts"])


def test_bulk_replay_of_a_filter_states_the_count_and_shows_the_outcome(page: Page, server: Server) -> None:
    dlq = server.app.dlq
    matching = dlq.count(task="chart.render")
    assert matching > 3
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters?task=chart.render")
    page.check("[data-select-page]")
    expect(page.locator("[data-selected-count]")).to_have_text(str(min(matching, 50)))
    page.check("[data-scope-all]")
    page.click("[data-actionbar] >> text=Replay…")

    expect(page.locator("[data-confirm=replay] [data-count]")).to_have_text(f"Replay {matching} dead letters?")
    expect(page.locator("[data-confirm]")).to_contain_text("task chart.render")
    page.fill("input[name=rate]", "500")
    screenshot(page, "08-confirm-replay")
    page.click("[data-confirm-button]")

    expect(page.locator("[data-flash]")).to_contain_text(f"Replayed {matching} dead letters as new jobs.")
    assert dlq.count(task="chart.render", resolution="replayed") == matching
    run_worker(server)
    page.click("[data-flash] >> text=See the replays and their outcome")
    expect(page.locator("[data-matching]")).to_have_text(str(matching))
    outcomes = page.locator(f"{LETTER_ROWS} td:last-child")
    expect(outcomes).to_have_count(matching)
    for text in outcomes.all_inner_texts():
        assert re.fullmatch(r"replayed\s*→\s*succeeded", text.strip()), text
    screenshot(page, "09-replay-outcome")

    page.locator(LETTER_ROWS).first.locator("td.cell-message a").click()
    expect(page.locator("[data-lineage] li.current")).to_contain_text("→job")
    expect(page.locator("[data-lineage] .badge-succeeded")).to_be_visible()


def test_replayed_letters_that_die_again_are_linked_both_ways(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters?task=sms.send&class=user_error&since=1h")
    rows = page.locator(LETTER_ROWS)
    chosen = [rows.nth(index).get_attribute("data-letter") for index in range(2)]
    for index in range(2):
        rows.nth(index).locator("input[name=id]").check()
    page.click("[data-actionbar] >> text=Replay…")
    expect(page.locator("[data-count]")).to_have_text("Replay 2 dead letters?")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text("Replayed 2 dead letters as new jobs.")
    run_worker(server)  # an invalid number stays invalid

    page.goto(f"{server.url}/dashboard/dead-letters/{chosen[0]}")
    lineage = page.locator("[data-lineage] li")
    expect(lineage).to_have_count(2)
    expect(lineage.nth(0)).to_contain_text("this dead letter")
    expect(lineage.nth(0).locator(".badge-dead")).to_be_visible()
    lineage.nth(1).locator("a").first.click()  # the letter the replay became
    expect(page.locator("[data-lineage] li").nth(0).locator("a").first).to_have_attribute(
        "href", re.compile(f"/dead-letters/{chosen[0]}$")
    )
    expect(page.locator("[data-lineage] li.current")).to_contain_text("this dead letter")
    screenshot(page, "13-lineage")


def test_abandon_selected_rows_with_a_note(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters?task=email.send")
    rows = page.locator(LETTER_ROWS)
    chosen = [rows.nth(index).get_attribute("data-letter") or "" for index in range(3)]
    for index in range(3):
        rows.nth(index).locator("input[name=id]").check()
    page.click("[data-actionbar] >> text=Abandon…")
    expect(page.locator("[data-count]")).to_have_text("Abandon 3 dead letters?")
    page.fill("textarea[name=note]", "customer closed the account <b>for good</b>")
    screenshot(page, "10-confirm-abandon")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text("Abandoned 3 dead letters.")
    for dead_letter_id in chosen:
        letter = server.app.dlq.get(DeadLetterId(dead_letter_id))
        assert letter is not None and letter.resolution == "abandoned"
        assert letter.note == "customer closed the account <b>for good</b>"
    page.goto(f"{server.url}/dashboard/dead-letters/{chosen[0]}")
    expect(page.locator("[data-note]")).to_have_text("customer closed the account <b>for good</b>")
    expect(page.locator("[data-letter-actions] >> text=Abandon…")).to_have_count(0)


def test_abandon_needs_a_note(page: Page, server: Server) -> None:
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters?task=email.send")
    page.locator(LETTER_ROWS).first.locator("input[name=id]").check()
    page.click("[data-actionbar] >> text=Abandon…")
    page.evaluate("document.querySelector('textarea[name=note]').removeAttribute('required')")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-reason]")).to_contain_text("say why in the note")
    assert server.app.dlq.count(resolution="abandoned") == 0


def test_purge_one_letter_and_then_all_matching_a_filter(page: Page, server: Server) -> None:
    dlq = server.app.dlq
    total = dlq.count()
    (letter,) = dlq.list(limit=1, task="email.send")
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters/{letter.id}")
    page.click("[data-letter-actions] >> text=Purge…")
    expect(page.locator("[data-count]")).to_have_text("Purge 1 dead letter?")
    expect(page.locator("[data-confirm]")).to_contain_text("cannot be undone")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text("Purged 1 dead letter.")
    assert page.url.endswith("/dashboard/dead-letters")
    assert dlq.get(letter.id) is None and dlq.count() == total - 1

    reports = dlq.count(task="report.build")
    page.goto(f"{server.url}/dashboard/dead-letters?task=report.build")
    page.check("[data-scope-all]")
    page.click("[data-actionbar] >> text=Purge…")
    expect(page.locator("[data-count]")).to_have_text(f"Purge {reports} dead letters?")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text(f"Purged {reports} dead letters.")
    assert dlq.count(task="report.build") == 0 and dlq.count() == total - 1 - reports


def test_edit_then_replay_keeps_what_was_left_redacted(page: Page, server: Server) -> None:
    (light,) = server.app.dlq.list(limit=1, task="sms.send", error_class="user_error")
    letter = server.app.dlq.get(light.id)
    assert letter is not None
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters/{letter.id}")
    page.click("[data-edit] summary")
    editor = page.locator("[data-edit] textarea")
    text = editor.input_value()
    assert '"api_token": "[redacted]"' in text and "[redacted phone]" in text
    editor.fill(text.replace('"[redacted phone]"', '"+15551234567"'))
    page.click("[data-edit] >> text=Replay with this payload…")
    expect(page.locator("[data-count]")).to_have_text("Replay 1 dead letter?")
    expect(page.locator("[data-confirm]")).to_contain_text("+15551234567")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text("Replayed 1 dead letter as new jobs.")

    replayed = server.app.dlq.get(letter.id)
    assert replayed is not None and replayed.replayed_as is not None
    job = server.app.get_job(replayed.replayed_as)
    assert job is not None
    assert job.payload["kwargs"] == {**letter.payload["kwargs"], "to": "+15551234567"}  # the token came back
    assert replayed.payload == letter.payload  # the dead letter keeps the original
    run_worker(server)
    page.reload()
    expect(page.locator("[data-facts]")).to_contain_text("edited payload")
    expect(page.locator("[data-lineage] .badge-succeeded")).to_be_visible()
    # The audit trail says who replayed it, with both payloads redacted (the typed number is PII too).
    entry = page.locator("[data-audit=replayed]")
    expect(entry.locator("[data-audit-by]")).to_have_text("dashboard:admin")
    entry.locator("[data-edited] summary").click()
    expect(entry.locator("[data-original-payload]")).to_contain_text('"api_token": "[redacted]"')
    expect(entry.locator("[data-edited-payload]")).to_contain_text('"to": "[redacted phone]"')
    assert "+15551234567" not in entry.inner_text()
    screenshot(page, "16-audit-trail")


def test_a_throttled_replay_that_would_outlast_the_page_is_refused_with_advice(page: Page, server: Server) -> None:
    before = server.app.dlq.count(resolution="replayed")
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/dead-letters?task=sms.send")
    page.check("[data-scope-all]")
    page.click("[data-actionbar] >> text=Replay…")
    page.fill("input[name=rate]", "0.1")  # the smallest the form takes: 100 letters take 17 minutes
    page.click("[data-confirm-button]")
    expect(page.locator("[data-reason]")).to_contain_text("raise the rate, narrow the filter, or run `jobq dlq replay")
    assert server.app.dlq.count(resolution="replayed") == before
