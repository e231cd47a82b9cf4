"""Alerts the workers raise by themselves, through the hooks: thresholds and new failures, once per storm."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import jobq
from jobq.alerting import raise_alerts
from jobq.hooks import CallableSink, HookEvent, Hooks, WebhookSink

from .harness import ManualClock, wait_until, work
from .receivers import SECRET, Answer, Receiver, Request, accept

ALERTING = jobq.Alerting(jobq.Thresholds(last_24h=2, avg_retries=100, pending_recovery=100), quiet=3600)


def failing_app(url: str, seen: list[HookEvent], **options: object) -> jobq.App:
    app = jobq.App(url, hooks=Hooks([CallableSink(seen.append, kinds=["alert"])]), **options)  # type: ignore[arg-type]

    @app.task(name="send", max_attempts=1)
    def send(to: str) -> None:
        raise jobq.Permanent(f"invalid number {to}")

    @app.task(name="render", max_attempts=1)
    def render(page: int) -> None:
        raise MemoryError(f"out of memory rendering page {page}")

    @app.task(name="charge", max_attempts=1)
    def charge(amount: int) -> None:
        raise ValueError(f"amount {amount} is above the card's limit")

    return app


def alerts(seen: list[HookEvent]) -> list[str]:
    """The workers' own alerts by name (a system error's alert is about one letter: left out)."""
    return sorted(event.data["name"] for event in seen if event.kind == "alert" and "dead_letter" not in event.data)


NewFingerprints = list[tuple[str, float, int]]


def counting(real: Callable[..., NewFingerprints], calls: list[str]) -> Callable[..., NewFingerprints]:
    """A backend's ``new_fingerprints`` that notes each call in ``calls``."""

    def new_fingerprints(*, since: float) -> NewFingerprints:
        calls.append("x")
        return real(since=since)

    return new_fingerprints


def test_a_storm_is_one_message_and_new_failures_are_announced_once(url: str) -> None:
    seen: list[HookEvent] = []
    clock = ManualClock()
    with failing_app(url, seen, alerting=ALERTING, clock=clock) as app:
        for number in ("+15550001111", "+15550002222", "+15550003333"):
            app.enqueue("send", {"to": number})
        app.enqueue("render", {"page": 7})
        work(app)  # a burst worker evaluates once before it returns
        assert alerts(seen) == ["last_24h", "new_fingerprint"]
        [new] = [event for event in seen if event.data["name"] == "new_fingerprint"]
        assert new.data["value"] == 2 and sorted(item["letters"] for item in new.data["fingerprints"]) == [1, 3]
        assert "+1555000" not in json.dumps(new.data), "alerts are redacted like every hook event"

        # The storm goes on: more of the same failures say nothing; a failure never seen before is news.
        seen.clear()
        clock.advance(120)
        app.enqueue("send", {"to": "+15550004444"})
        app.enqueue("charge", {"amount": 5000})
        work(app)
        assert alerts(seen) == ["new_fingerprint"]
        assert seen[-1].data["fingerprints"][0]["error_type"] == "ValueError"

        # The storm ends (the letters age out of last_24h) and comes back within the quiet period: silence.
        seen.clear()
        clock.advance(90_000)
        assert raise_alerts(app.backend, ALERTING, clock=app.clock) == []
        clock.advance(600)
        app.enqueue("send", {"to": "+15550005555"})
        app.enqueue("send", {"to": "+15550006666"})
        app.enqueue("send", {"to": "+15550007777"})
        work(app)
        assert alerts(seen) == [], "cleared and back within an hour: still the same storm"

        # It clears, stays away past the quiet period, and comes back: a new message.
        clock.advance(90_000)
        assert raise_alerts(app.backend, ALERTING, clock=app.clock) == []
        clock.advance(3600)
        for number in ("+15550008888", "+15550009999", "+15550000000"):
            app.enqueue("send", {"to": number})
        work(app)
        assert alerts(seen) == ["last_24h"]
        assert seen[-1].data["message"] == "last_24h is 3, above the threshold of 2"


def test_racing_workers_send_each_alert_once(shared_url: str) -> None:
    seen: list[HookEvent] = []
    apps = [failing_app(shared_url, seen, alerting=ALERTING) for _ in range(3)]
    try:
        for number in range(4):
            apps[0].enqueue("send", {"to": f"+1555000{number}000"})
        work(apps[0])
        seen.clear()
        apps[0].backend.fire_alerts([], now=0, quiet=0, compose=lambda fired: [])  # every storm over: all re-armed
        start = threading.Barrier(len(apps))
        fired: list[str] = []

        def evaluate(app: jobq.App) -> None:
            start.wait()
            fired.extend(raise_alerts(app.backend, ALERTING, clock=app.clock))

        threads = [threading.Thread(target=evaluate, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(fired) == ["last_24h", f"new_fingerprint:{apps[0].dlq.list()[0].fingerprint}"]
    finally:
        for app in apps:
            app.close()


def test_a_running_worker_sends_alerts_to_a_webhook_and_stats_show_the_delivery(
    file_url: str, serve: Callable[[Callable[[Request, int], Answer]], Receiver]
) -> None:
    def fail_once(request: Request, number: int) -> Answer:
        return (503, {}, b"busy") if number == 1 else accept(request, number)

    receiver = serve(fail_once)
    hooks = Hooks([WebhookSink(receiver.url, SECRET, timeout=2.0, kinds=["alert"])])
    alerting = jobq.Alerting(jobq.Thresholds(last_24h=0), every=0.1)
    with jobq.App(file_url, hooks=hooks, alerting=alerting) as app:

        @app.task(name="send", max_attempts=1)
        def send() -> None:
            raise ValueError("no route to the carrier")

        worker = jobq.Worker(app)
        thread = threading.Thread(target=worker.run, kwargs={"install_signal_handlers": False})
        thread.start()
        try:
            app.enqueue("send")
            wait_until(lambda: len(receiver.requests) >= 1, what="a first delivery")
            wait_until(lambda: app.stats()["hooks"]["pending"] >= 1, what="the refused alert waiting for its retry")
            wait_until(lambda: len(receiver.requests) >= 2, timeout=20, what="the retry")
            wait_until(lambda: app.stats()["hooks"]["pending"] == 0, what="every delivery done")
        finally:
            worker.stop()
            thread.join(10)
        assert app.stats()["hooks"]["failed"] == 0
        names = [json.loads(request.body)["data"]["name"] for request in receiver.requests]
        assert sorted(set(names)) == ["last_24h", "new_fingerprint"] and len(names) == 3, "one refused, then retried"
        assert all(request.signature_ok for request in receiver.requests)


def test_no_hooks_means_no_alert_evaluation(url: str) -> None:
    with jobq.App(url, alerting=ALERTING) as app:

        @app.task(name="send", max_attempts=1)
        def send() -> None:
            raise ValueError("boom")

        for _ in range(3):
            app.enqueue("send")
        work(app)
        assert app.backend.outbox_counts() == {}
        assert [alert.name for alert in app.alerts()] == ["last_24h", "new_fingerprint"], "jobq check still sees them"


def test_alerts_can_be_switched_off(url: str) -> None:
    seen: list[HookEvent] = []
    with failing_app(url, seen, alerting=jobq.Alerting(ALERTING.thresholds, enabled=False)) as app:
        for number in range(3):
            app.enqueue("send", {"to": f"+1555000{number}000"})
        work(app)
        assert alerts(seen) == []


def test_new_fingerprint_window_zero_turns_that_alert_off(url: str) -> None:
    seen: list[HookEvent] = []
    thresholds = jobq.Thresholds(last_24h=100, new_fingerprint_window=0)
    with failing_app(url, seen, alerting=jobq.Alerting(thresholds)) as app:
        app.enqueue("render", {"page": 1})
        work(app)
        assert alerts(seen) == []
        assert app.dlq.count(since=timedelta(hours=1)) == 1


def test_of_many_running_workers_one_evaluates_per_period(shared_url: str) -> None:
    seen: list[HookEvent] = []
    evaluations: list[str] = []
    alerting = jobq.Alerting(jobq.Thresholds(last_24h=100), every=0.3)
    apps = [failing_app(shared_url, seen, alerting=alerting) for _ in range(3)]
    workers = [jobq.Worker(app) for app in apps]
    for app in apps:
        app.backend.new_fingerprints = counting(app.backend.new_fingerprints, evaluations)  # type: ignore[method-assign]
    threads = [threading.Thread(target=w.run, kwargs={"install_signal_handlers": False}) for w in workers]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        time.sleep(2.0)
    finally:
        for worker in workers:
            worker.stop()
        for thread in threads:
            thread.join(10)
        for app in apps:
            app.close()
    periods = (time.monotonic() - started) / 0.3
    # Three workers, each with its own 0.3 s timer: without the shared turn, about 3 evaluations a period.
    assert 1 <= len(evaluations) <= periods + 2, (len(evaluations), periods)
