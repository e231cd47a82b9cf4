"""The webhook sink against real HTTP receivers on loopback: one that checks the signature, one that fails,
one that hangs, and one that fails and then recovers."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from jobq.hooks import (
    CallableSink,
    DeliveryError,
    HookEvent,
    Hooks,
    RetryDelivery,
    WebhookSink,
    events_for_dead_letter,
    next_delivery,
    verify_signature,
)
from jobq.job import DeadLetter, DeadLetterId, JobId
from jobq.redact import PHONE
from jobq.serialize import dead_letter_to_dict

from .receivers import SECRET, Answer, Receiver, Request, accept


def dead_letter_event() -> HookEvent:
    letter = DeadLetter(
        id=DeadLetterId("01DEAD"),
        job_id=JobId("01JOB"),
        task="tasks.send_sms",
        queue="sms",
        payload={"args": [], "kwargs": {"to": "+821012345678", "body": "hi"}},
        attempts=1,
        max_attempts=3,
        error_type="ProviderError",
        error_message="invalid number +821012345678",
        error_traceback="Traceback ...\nProviderError: invalid number +821012345678",
        error_class="user_error",
        fingerprint="0123456789abcdef",
        failed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return events_for_dead_letter(dead_letter_to_dict(letter))[1]  # notify


def test_a_receiver_gets_the_signed_event_and_verifies_it(serve: Callable[..., Receiver]) -> None:
    receiver = serve(accept)
    event = HookEvent.create("alert", {"name": "last_24h", "value": 12.0, "threshold": 10.0, "message": "x"})
    WebhookSink(receiver.url, SECRET).deliver(event)
    [request] = receiver.requests
    assert request.signature_ok
    assert request.path == "/hooks/jobq"
    assert json.loads(request.body) == event.to_dict()
    assert request.headers["Content-Type"] == "application/json"
    assert (request.headers["X-Jobq-Event"], request.headers["X-Jobq-Delivery"]) == ("alert", event.id)
    assert abs(int(request.headers["X-Jobq-Timestamp"]) - time.time()) < 5


def test_a_captured_request_replayed_later_is_refused(serve: Callable[..., Receiver]) -> None:
    receiver = serve(accept)
    WebhookSink(receiver.url, SECRET).deliver(HookEvent.create("on_dead", {"job_id": "01JOB"}))
    request = receiver.requests[0]
    timestamp, signature = request.headers["X-Jobq-Timestamp"], request.headers["X-Jobq-Signature"]
    assert verify_signature(SECRET, timestamp, request.body, signature, now=time.time())
    assert not verify_signature(SECRET, timestamp, request.body, signature, now=time.time() + 301)
    assert not verify_signature(SECRET, timestamp, request.body.replace(b"01JOB", b"01BAD"), signature, now=time.time())


def test_hooks_send_the_receiver_a_redacted_event(serve: Callable[..., Receiver]) -> None:
    receiver = serve(accept)
    results = Hooks([WebhookSink(receiver.url, SECRET)]).deliver(dead_letter_event())
    assert [(result.status, result.error) for result in results] == [("delivered", None)]
    request = receiver.requests[0]
    assert request.signature_ok
    assert b"821012345678" not in request.body
    data = json.loads(request.body)["data"]
    assert data["payload"]["kwargs"]["to"] == PHONE
    assert data["error_message"] == f"invalid number {PHONE}"


def test_a_receiver_answering_500_is_a_delivery_error(serve: Callable[..., Receiver]) -> None:
    receiver = serve(lambda request, number: (500, {}, b"Internal Server Error\n\ntraceback here"))
    sink = WebhookSink(receiver.url, SECRET)
    with pytest.raises(DeliveryError) as caught:
        sink.deliver(HookEvent.create("on_dead", {}))
    message = str(caught.value)
    assert message.startswith(f"{sink.name} answered HTTP 500 Internal Server Error: Internal Server Error")
    assert "\n" not in message
    assert caught.value.status_code == 500


def test_a_redirect_is_a_delivery_error_too(serve: Callable[..., Receiver]) -> None:
    receiver = serve(lambda request, number: (301, {"Location": "https://elsewhere.example/"}, b""))
    with pytest.raises(DeliveryError, match=r"HTTP 301 .*redirects are not followed"):
        WebhookSink(receiver.url, SECRET).deliver(HookEvent.create("on_dead", {}))


def test_a_receiver_that_hangs_fails_after_about_the_timeout(serve: Callable[..., Receiver]) -> None:
    receiver: Receiver

    def hang(request: Request, number: int) -> Answer:
        receiver.release.wait(timeout=10)
        return 204, {}, b""

    receiver = serve(hang)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=r"no answer within 0\.5s"):
        WebhookSink(receiver.url, SECRET, timeout=0.5).deliver(HookEvent.create("alert", {}))
    assert 0.45 <= time.monotonic() - started < 2.0
    assert len(receiver.requests) == 1  # the request arrived; the answer never came


def test_nothing_listening_is_a_delivery_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago, and that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DeliveryError, match=f"webhook http://127.0.0.1:{port}: .*refused"):
        WebhookSink(f"http://127.0.0.1:{port}/hooks", SECRET, timeout=2.0).deliver(HookEvent.create("alert", {}))


def test_a_receiver_that_fails_then_recovers_gets_the_same_delivery_again(serve: Callable[..., Receiver]) -> None:
    def flaky(request: Request, number: int) -> Answer:
        return (503, {"Retry-After": "7"}, b"try later") if number <= 2 else accept(request, number)

    receiver = serve(flaky)
    hooks = Hooks([WebhookSink(receiver.url, SECRET, name="ops")])
    event = dead_letter_event()
    now, attempts = time.time(), 0
    while True:  # the outbox's loop, with time passing only on paper
        [result] = hooks.deliver(event)
        if result.ok:
            break
        attempts += 1
        assert (result.sink, result.error) == ("ops", "ops answered HTTP 503 Service Unavailable: try later")
        decision = next_delivery(attempts, now, result.error or "", retry_after=result.retry_after)
        assert isinstance(decision, RetryDelivery) and decision.at >= now + 7
        now = decision.at
    assert attempts == 2
    assert [request.headers["X-Jobq-Delivery"] for request in receiver.requests] == [event.id] * 3
    assert all(request.signature_ok for request in receiver.requests)


def test_one_broken_receiver_does_not_keep_the_event_from_the_others(serve: Callable[..., Receiver]) -> None:
    broken, healthy = serve(lambda request, number: (500, {}, b"")), serve(accept)
    seen: list[HookEvent] = []
    hooks = Hooks(
        [
            WebhookSink(broken.url, SECRET, name="broken"),
            WebhookSink(healthy.url, SECRET, name="healthy"),
            CallableSink(seen.append, name="local"),
        ]
    )
    results = hooks.deliver(dead_letter_event())
    assert [(result.sink, result.status) for result in results] == [
        ("broken", "failed"),
        ("healthy", "delivered"),
        ("local", "delivered"),
    ]
    # The retry goes to the failed sink only: the others are not sent the event twice.
    assert [result.sink for result in hooks.deliver(dead_letter_event(), only={"broken"})] == ["broken"]
    assert (len(broken.requests), len(healthy.requests), len(seen)) == (2, 1, 1)
