"""Redrives in the browser: the Operations page, one redrive's progress and outcome, cancel and resume."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from jobq.redrive import RedriveId
from tests.web.conftest import interrupted_redrive

from .conftest import Server, screenshot, shop_app, sign_in


def test_a_redrive_shows_its_progress_and_outcome_and_is_cancelled_then_resumed(page: Page, server: Server) -> None:
    dlq = server.app.dlq
    matched = dlq.count(task="chart.render", unresolved=True)
    redrive_id = interrupted_redrive(server.app, after=2, by="alice", task="chart.render")
    with shop_app(server.db_url, healthy=True) as app:  # the disk has room again: the two replays succeed
        app.run_worker(concurrency=2, burst=True, install_signal_handlers=False, queues=["charts"])

    sign_in(page, server)
    expect(page.locator("[data-hooks] .value")).to_have_text("0")
    expect(page.locator("[data-pruned] .value")).to_have_text("0")
    page.click("nav >> text=Operations")
    row = page.locator(f"[data-redrive='{redrive_id}']")
    expect(row).to_contain_text("alice")
    expect(row).to_contain_text("running")
    expect(row).to_contain_text("task chart.render")
    expect(row.locator("[data-progress]")).to_have_attribute("data-progress", f"2/{matched}")
    expect(page.locator("[data-audit-log] [data-audit=replayed]")).to_have_count(2)
    screenshot(page, "14-operations")

    row.locator("a").first.click()
    outcomes = dlq.redrive_outcome(RedriveId(redrive_id))
    assert sum(outcome.succeeded for outcome in outcomes) == 2
    for outcome in outcomes:
        fingerprint = page.locator(f"[data-outcome] [data-fingerprint='{outcome.fingerprint}']")
        expect(fingerprint.locator("[data-succeeded]")).to_have_text(str(outcome.succeeded))
        expect(fingerprint.locator("a").first).to_have_attribute(
            "href", f"/dashboard/dead-letters?fingerprint={outcome.fingerprint}"
        )
    screenshot(page, "15-redrive")

    page.click("[data-redrive-actions] >> text=Cancel…")
    expect(page.locator("[data-confirm=cancel]")).to_contain_text(f"it has handled 2 of the {matched} dead letters")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text("Cancelled")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "cancelled")
    expect(page.locator("[data-redrive-actions] >> text=Cancel…")).to_have_count(0)

    page.click("[data-redrive-actions] >> text=Resume…")
    page.click("[data-confirm-button]")
    expect(page.locator("[data-flash]")).to_contain_text("Resumed")
    deadline = time.monotonic() + 10
    while (redrive := dlq.get_redrive(RedriveId(redrive_id))) is not None and redrive.state != "finished":
        assert time.monotonic() < deadline, redrive
        time.sleep(0.05)
    assert redrive is not None and redrive.replayed == matched
    replays = [entry.by or "" for entry in dlq.audit_log(limit=1000) if entry.action == "replayed"]
    assert sorted(replays) == ["alice"] * 2 + ["dashboard:admin"] * (matched - 2)  # the resume's, as who resumed
    page.reload()
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "finished")
    expect(page.locator("[data-redrive-actions]")).to_have_count(0)
