"""Hooks through the outbox: recorded with the dead letter, delivered after commit, retried, never in the way."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import jobq
from jobq.hooks import CallableSink, HookEvent, Hooks, WebhookSink

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
