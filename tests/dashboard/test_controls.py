"""Pausing a queue, resuming it and cancelling a job in the browser, and the periodic schedules on the overview."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import Server, sign_in


def test_a_queue_is_paused_and_resumed_from_the_overview(page: Page, server: Server) -> None:
    sign_in(page, server)
    row = page.locator("[data-queues] tr[data-queue=default]")
    row.locator("[data-pause]").click()
    expect(page.locator("[data-flash]")).to_contain_text("Queue default paused.")
    expect(page.locator("[data-queues] tr[data-queue=default] [data-paused]")).to_have_text("paused")
    assert [pause.queue for pause in server.app.paused_queues()] == ["default"]

    page.locator("[data-queues] tr[data-queue=default] [data-resume]").click()
    expect(page.locator("[data-flash]")).to_contain_text("Queue default resumed.")
    expect(page.locator("[data-queues] tr[data-queue=default] [data-paused]")).to_have_count(0)
    assert server.app.paused_queues() == []


def test_a_queued_job_is_cancelled_from_its_page(page: Page, server: Server) -> None:
    job_id = server.app.enqueue("sms.send", {"to": "+15550100", "body": "later"}, delay=3600)
    sign_in(page, server)
    page.goto(f"{server.url}/dashboard/jobs/{job_id}")
    page.click("[data-cancel] button")
    expect(page.locator("[data-flash]")).to_contain_text("Job cancelled")
    expect(page.locator(".error-head .badge")).to_have_text("cancelled")
    expect(page.locator("[data-cancel]")).to_have_count(0)  # nothing left to cancel
    job = server.app.get_job(job_id)
    assert job is not None and job.status == "cancelled"
