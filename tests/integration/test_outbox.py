"""Hooks through the outbox: recorded with the dead letter, delivered after commit, retried, never in the way."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import jobq
from jobq.hooks import CallableSink, HookEvent, Hooks, WebhookSink
from jobq.outbox import CLAIM_FOR, LAST_PASS_BUDGET
from jobq.redact import Redactor
from jobq.serialize import dead_letter_to_dict

from .harness import ManualClock, work
from .receivers import SECRET, Answer, Receiver, Request, accept


def failing_app(url: str, hooks: Hooks, **options: Any) -> jobq.App:
    """Tasks that die; the workers' own alerts are off (test_alerting.py has them): these tests count events."""
    app = jobq.App(url, hooks=hooks, **{"alerting": jobq.Alerting(enabled=False), **options})

    @app.task(name="send", max_attempts=1)
    def send(to: str) -> None:
        raise jobq.Permanent(f"invalid number {to}")

    @app.task(name="crash", max_attempts=1)
    def crash() -> None:
        raise MemoryError("out of memory in the renderer")

    return app


def test_each_dead_letter_sends_on_dead_and_notify_or_alert_by_class_redacted(url: str) -> None:
    seen: list[HookEvent] = []
    with failing_app(url, Hooks([CallableSink(seen.append)])) as app:
        app.enqueue("send", {"to": "+15550001234"})
        app.enqueue("crash")
        work(app)
        kinds = sorted((event.kind, event.data.get("task") or event.data["dead_letter"]["task"]) for event in seen)
        assert kinds == [("alert", "crash"), ("notify", "send"), ("on_dead", "crash"), ("on_dead", "send")]
        notify = next(event for event in seen if event.kind == "notify")
        assert "+15550001234" not in json.dumps(notify.data), "PII is redacted before any sink sees it"
        assert app.backend.outbox_counts() == {"delivered": 4}


def test_no_hooks_configured_means_nothing_in_the_outbox(url: str) -> None:
    with failing_app(url, Hooks([])) as app:
        app.enqueue("crash")
        work(app)
        assert app.dlq.count() == 1 and app.backend.outbox_counts() == {}


def test_a_failing_receiver_is_retried_later_and_the_event_keeps_its_id(
    url: str, serve: Callable[[Callable[[Request, int], Answer]], Receiver]
) -> None:
    def fail_twice(request: Request, number: int) -> Answer:
        return (500, {}, b"down") if number <= 2 else accept(request, number)

    receiver = serve(fail_twice)
    clock = ManualClock()
    hooks = Hooks([WebhookSink(receiver.url, SECRET, timeout=2.0, kinds=["alert"])])
    with failing_app(url, hooks, clock=clock) as app:
        app.enqueue("crash")
        work(app)  # the dead letter is recorded; the first delivery fails
        assert app.dlq.count() == 1
        assert app.backend.outbox_counts() == {"pending": 2} or app.backend.outbox_counts() == {
            "pending": 1, "delivered": 1
        }  # fmt: skip
        for _ in range(2):
            clock.advance(3600)  # past any backoff
            work(app)
        assert app.backend.outbox_counts().get("pending", 0) == 0
        ids = {request.headers["X-Jobq-Delivery"] for request in receiver.requests}
        assert len(receiver.requests) == 3 and len(ids) == 1, "every retry carries the same delivery id"
        assert receiver.requests[-1].signature_ok


def test_a_hanging_receiver_never_holds_up_jobs(
    file_url: str, serve: Callable[[Callable[[Request, int], Answer]], Receiver]
) -> None:
    def hang(request: Request, number: int) -> Answer:
        receiver.release.wait(10)
        return accept(request, number)

    receiver = serve(hang)
    hooks = Hooks([WebhookSink(receiver.url, SECRET, timeout=1.0)])
    with failing_app(file_url, hooks) as app:

        @app.task(name="ok")
        def ok() -> None:
            pass

        app.enqueue("crash")
        for _ in range(20):
            app.enqueue("ok")
        started = time.monotonic()
        summary = work(app)
        assert summary.succeeded == 20 and summary.dead == 1
        assert app.dlq.count() == 1, "the dead letter is committed whatever the receiver does"
        assert time.monotonic() - started < 5.0
        assert app.backend.outbox_counts().get("pending", 0) >= 1  # to be retried, not lost


def test_a_burst_worker_leaves_a_receiver_that_never_answers_within_its_budget_and_the_next_delivers(
    shared_url: str, serve: Callable[[Callable[[Request, int], Answer]], Receiver]
) -> None:
    def never(request: Request, number: int) -> Answer:
        hanging.release.wait(60)
        return accept(request, number)

    hanging, working = serve(never), serve(accept)
    clock = ManualClock()
    with failing_app(shared_url, Hooks([WebhookSink(hanging.url, SECRET)]), clock=clock) as app:
        for n in range(10):
            app.enqueue("send", {"to": f"+1555000{n:04d}"})
        started = time.monotonic()
        summary = work(app)
        elapsed = time.monotonic() - started

        assert summary.dead == 10
        # The join of the chores thread, then the last pass's budget (its one delivery cut to what is left).
        assert elapsed < LAST_PASS_BUDGET + 4.0, f"returned after {elapsed:.1f} s"
        assert app.backend.outbox_counts() == {"pending": 20}  # on_dead and notify of each: none lost
        # Attempt counts stay truthful: one per delivery the receiver saw, none for the entries left untried.
        peek = app.backend.claim_deliveries(now=clock.now + 10 * CLAIM_FOR, lease=0.0, limit=100)
        assert sum(entry.attempts - 1 for entry in peek) == len(hanging.requests) <= 3
        app.backend.release_deliveries([entry.id for entry in peek], now=clock.now)

    clock.advance(CLAIM_FOR + 10)  # past any claim a delivery still under way held
    with failing_app(shared_url, Hooks([WebhookSink(working.url, SECRET)]), clock=clock) as app:
        work(app)
        assert app.backend.outbox_counts() == {"delivered": 20}
        delivered = {json.loads(request.body)["id"] for request in working.requests}
        assert len(delivered) == 20 and all(request.signature_ok for request in working.requests)


class Switch:
    """A sink that refuses every event until the test lets it through."""

    def __init__(self) -> None:
        self.open = False
        self.events: list[HookEvent] = []

    def __call__(self, event: HookEvent) -> None:
        if not self.open:
            raise ConnectionError("receiver down")
        self.events.append(event)


def test_an_event_says_what_was_written_with_it_even_when_its_letter_is_purged_before_delivery(
    shared_url: str,
) -> None:
    switch, clock = Switch(), ManualClock()
    hooks = Hooks([CallableSink(switch, name="switch")], redactor=Redactor.none())
    with failing_app(shared_url, hooks, clock=clock) as app:
        app.enqueue("send", {"to": "+15550001234"}, tenant="acme")
        app.enqueue("crash")
        work(app)
        full = [app.dlq.get(light.id) for light in app.dlq.list()]
        letters = {letter.task: dead_letter_to_dict(letter) for letter in full if letter is not None}
        assert app.backend.outbox_counts() == {"pending": 4}

        assert app.dlq.purge(everything=True) == 2
        switch.open = True
        clock.advance(CLAIM_FOR)
        work(app)

        assert app.backend.outbox_counts() == {"delivered": 4}
        by_kind = {
            (event.kind, (event.data.get("dead_letter") or event.data)["task"]): event for event in switch.events
        }
        assert set(by_kind) == {("on_dead", "send"), ("notify", "send"), ("on_dead", "crash"), ("alert", "crash")}
        assert by_kind["notify", "send"].data == letters["send"]
        assert by_kind["on_dead", "crash"].data == letters["crash"]
        alert = by_kind["alert", "crash"].data
        assert alert["name"] == "system_error" and alert["dead_letter"] == letters["crash"]
        assert "MemoryError" in alert["message"]
        assert _written_letters(shared_url) == 0, "a delivered entry keeps no copy of a purged letter"


def test_an_entry_written_without_its_letter_is_delivered_from_the_letter_or_fails_once_it_is_gone(
    shared_url: str,
) -> None:
    switch, clock = Switch(), ManualClock()
    hooks = Hooks([CallableSink(switch, name="switch")], redactor=Redactor.none())
    with failing_app(shared_url, hooks, clock=clock) as app:
        app.enqueue("send", {"to": "+15550001234"})
        app.enqueue("crash")
        work(app)
        _forget_written_letters(shared_url)  # the entries as an older jobq wrote them: the letter's id only
        [purged] = [light.id for light in app.dlq.list() if light.task == "crash"]
        assert app.dlq.purge(everything=True, task="crash") == 1
        switch.open = True
        clock.advance(CLAIM_FOR)
        work(app)

        assert {(event.kind, event.data["task"]) for event in switch.events} == {
            ("on_dead", "send"),
            ("notify", "send"),
        }
        assert app.backend.outbox_counts() == {"delivered": 2, "failed": 2}, f"{purged}: its letter is gone"


def _written_letters(url: str) -> int:
    query = "SELECT count(*) FROM outbox WHERE data IS NOT NULL"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return int(conn.execute(query).fetchone()[0])
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
        return int(row[0]) if row else 0


def _forget_written_letters(url: str) -> None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("UPDATE outbox SET data = NULL")
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE outbox SET data = NULL")
