"""Hook events, sinks, webhook signatures, the delivery policy and the Hooks registry (no network here)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from datetime import UTC, datetime
from typing import Any

import pytest

from jobq.errors import JobqError, Retry
from jobq.hooks import (
    DELIVERY_BACKOFF,
    MAX_DELIVERY_ATTEMPTS,
    CallableSink,
    DeliveryError,
    GiveUp,
    HookEvent,
    Hooks,
    LoggingSink,
    RetryDelivery,
    SinkResult,
    WebhookSink,
    alert_event,
    events_for_dead_letter,
    next_delivery,
    sign,
    verify_signature,
)
from jobq.job import AttemptError, DeadLetter, DeadLetterId, ErrorClass, JobId
from jobq.redact import EMAIL, PHONE, REDACTED, Redactor
from jobq.retry import Exponential
from jobq.serialize import dead_letter_to_dict

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z
AT = datetime(2026, 1, 1, tzinfo=UTC)
SECRET = "whsec_test"


def letter_dict(error_class: ErrorClass = "user_error") -> dict[str, Any]:
    letter = DeadLetter(
        id=DeadLetterId("01DEAD"),
        job_id=JobId("01JOB"),
        task="tasks.send_sms",
        queue="sms",
        payload={"args": [], "kwargs": {"to": "+15550001111", "body": "hi"}},
        attempts=1,
        max_attempts=3,
        error_type="ProviderError",
        error_message="invalid number +15550001111\nsecond line",
        error_traceback="Traceback ...\nProviderError: invalid number +15550001111",
        error_class=error_class,
        fingerprint="0123456789abcdef",
        failed_at=AT,
        tenant="acme",
        errors=(AttemptError(1, AT, "ProviderError", "invalid number +15550001111", "Traceback ..."),),
    )
    return dead_letter_to_dict(letter)


# -- events ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error_class", "kinds"),
    [
        ("recoverable", ["on_dead"]),
        ("user_error", ["on_dead", "notify"]),
        ("system_error", ["on_dead", "alert"]),
        ("unknown", ["on_dead"]),
    ],
)
def test_a_dead_letter_produces_on_dead_and_the_event_its_class_calls_for(
    error_class: ErrorClass, kinds: list[str]
) -> None:
    events = events_for_dead_letter(letter_dict(error_class), now=NOW)
    assert [event.kind for event in events] == kinds
    assert all(event.created_at == NOW for event in events)
    assert len({event.id for event in events}) == len(events)


def test_on_dead_and_notify_carry_the_dead_letter_as_serialized() -> None:
    data = letter_dict("user_error")
    on_dead, notify = events_for_dead_letter(data, now=NOW)
    assert on_dead.data == notify.data == data
    assert on_dead.data is not data  # a copy: the caller's dict may change afterwards


def test_the_class_argument_overrides_the_letters_own() -> None:
    events = events_for_dead_letter(letter_dict("unknown"), "system_error", now=NOW)
    assert [event.kind for event in events] == ["on_dead", "alert"]


def test_a_system_error_alert_names_the_job_and_carries_the_dead_letter() -> None:
    data = letter_dict("system_error")
    alert = events_for_dead_letter(data, now=NOW)[1]
    assert alert.data["name"] == "system_error"
    assert alert.data["value"] is None and alert.data["threshold"] is None
    assert alert.data["message"] == (
        "Job 01JOB (tasks.send_sms) died with a system error after 1 attempts: "
        "ProviderError: invalid number +15550001111"
    )
    assert alert.data["dead_letter"] == data


def test_a_threshold_alert_has_name_value_threshold_and_message() -> None:
    event = alert_event("last_24h", "last_24h is 12, above 10", value=12, threshold=10, now=NOW)
    assert (event.kind, event.created_at) == ("alert", NOW)
    assert event.data == {"name": "last_24h", "value": 12.0, "threshold": 10.0, "message": "last_24h is 12, above 10"}


def test_an_alert_value_that_json_cannot_hold_becomes_null() -> None:
    event = alert_event("avg_retries", "no data", value=float("nan"), threshold=float("inf"))
    assert event.data["value"] is None and event.data["threshold"] is None
    assert json.loads(event.to_json())["data"]["value"] is None


def test_event_json_round_trips_and_is_strict_ascii_json() -> None:
    event = HookEvent.create("notify", {"message": "naïve \udcff", "n": [1, 2.5, None]}, now=NOW)
    text = event.to_json()
    assert text.isascii()
    assert set(json.loads(text)) == {"id", "kind", "created_at", "data"}
    assert HookEvent.from_json(text) == event
    assert HookEvent.from_json(text.encode()) == event


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "hook event is not JSON"),
        ("[1]", "must be a JSON object"),
        ('{"id": "", "kind": "alert", "created_at": 1, "data": {}}', "id must be a non-empty string"),
        ('{"id": "x", "kind": "on_fire", "created_at": 1, "data": {}}', "unknown hook kind 'on_fire'"),
        ('{"id": "x", "kind": "alert", "created_at": true, "data": {}}', "created_at must be unix seconds"),
        ('{"id": "x", "kind": "alert", "created_at": 1, "data": []}', "data must be a JSON object"),
    ],
)
def test_malformed_event_json_is_refused_with_one_line(text: str, message: str) -> None:
    with pytest.raises(JobqError, match=message):
        HookEvent.from_json(text)


def test_unknown_kinds_are_refused() -> None:
    with pytest.raises(JobqError, match="unknown hook kind 'oops'"):
        HookEvent.create("oops", {})  # type: ignore[arg-type]
    with pytest.raises(JobqError, match="unknown hook kind 'oops'"):
        LoggingSink(kinds=["oops"])  # type: ignore[list-item]


# -- signatures -----------------------------------------------------------------------------------


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"1"}'
    expected = hmac.new(SECRET.encode(), b"1767225600." + body, hashlib.sha256).hexdigest()
    assert sign(SECRET, 1767225600, body) == f"sha256={expected}"
    assert sign(SECRET.encode(), "1767225600", body.decode()) == f"sha256={expected}"


def test_a_signature_verifies_for_the_same_secret_body_and_timestamp() -> None:
    body = b'{"id":"1","data":{}}'
    signature = sign(SECRET, "1767225600", body)
    assert verify_signature(SECRET, "1767225600", body, signature, now=NOW)
    assert verify_signature(SECRET, 1767225600, body.decode(), signature, now=NOW + 299)


@pytest.mark.parametrize(
    ("secret", "timestamp", "body", "now"),
    [
        ("other secret", "1767225600", b'{"id":"1"}', NOW),  # wrong secret
        (SECRET, "1767225600", b'{"id":"2"}', NOW),  # body changed
        (SECRET, "1767225601", b'{"id":"1"}', NOW),  # timestamp changed
        (SECRET, "1767225600", b'{"id":"1"}', NOW + 301),  # stale: a replay of an old request
        (SECRET, "1767225600", b'{"id":"1"}', NOW - 301),  # from the future
    ],
)
def test_a_signature_is_refused_for_another_secret_body_or_timestamp_or_when_stale(
    secret: str, timestamp: str, body: bytes, now: float
) -> None:
    signature = sign(SECRET, "1767225600", b'{"id":"1"}')
    assert not verify_signature(secret, timestamp, body, signature, now=now)


def test_the_tolerance_for_clock_skew_is_configurable() -> None:
    signature = sign(SECRET, "1767225600", b"{}")
    assert not verify_signature(SECRET, "1767225600", b"{}", signature, now=NOW + 61, tolerance=60)
    assert verify_signature(SECRET, "1767225600", b"{}", signature, now=NOW + 3000, tolerance=3600)


@pytest.mark.parametrize(
    ("timestamp", "signature"),
    [
        ("yesterday", None),
        ("", None),
        ("1767225600", "nonsense"),
        ("1767225600", "sha256=é"),
        ("1767225600", ""),
    ],
)
def test_malformed_timestamps_and_signatures_are_refused_without_raising(timestamp: str, signature: str | None) -> None:
    good = sign(SECRET, "1767225600", b"{}")
    assert not verify_signature(SECRET, timestamp, b"{}", good if signature is None else signature, now=NOW)


# -- the delivery policy ------------------------------------------------------------------------------


def test_the_first_retry_comes_within_two_seconds() -> None:
    decision = next_delivery(1, NOW, "HTTP 500")
    assert isinstance(decision, RetryDelivery)
    assert NOW <= decision.at <= NOW + 2.0


def test_retries_back_off_exponentially_up_to_ten_minutes() -> None:
    backoff = Exponential(base=2.0, cap=600.0, jitter=False)
    ats = [next_delivery(n, NOW, "x", backoff=backoff) for n in range(1, 12)]
    assert [decision.at - NOW for decision in ats if isinstance(decision, RetryDelivery)] == [
        2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 600.0, 600.0,
    ]  # fmt: skip
    assert Exponential(base=2.0, factor=2.0, cap=600.0) == DELIVERY_BACKOFF  # the default jitters under these


def test_jitter_stays_under_the_ceiling() -> None:
    backoff = Exponential(base=2.0, cap=600.0, rng=random.Random(7))
    for attempt in range(1, MAX_DELIVERY_ATTEMPTS):
        decision = next_delivery(attempt, NOW, "x", backoff=backoff)
        assert isinstance(decision, RetryDelivery)
        assert NOW <= decision.at <= NOW + backoff.ceiling(attempt)


def test_delivery_gives_up_after_twelve_failures_by_default() -> None:
    assert MAX_DELIVERY_ATTEMPTS == 12
    assert isinstance(next_delivery(11, NOW, "HTTP 500"), RetryDelivery)
    assert next_delivery(12, NOW, "HTTP 500") == GiveUp("gave up after 12 failed deliveries; last: HTTP 500")
    assert isinstance(next_delivery(3, NOW, "x", max_attempts=3), GiveUp)


def test_a_receivers_retry_after_is_honoured_up_to_an_hour() -> None:
    backoff = Exponential(base=2.0, cap=600.0, jitter=False)
    assert next_delivery(1, NOW, "429", backoff=backoff, retry_after=120) == RetryDelivery(NOW + 120)
    assert next_delivery(9, NOW, "429", backoff=backoff, retry_after=1) == RetryDelivery(NOW + 512)
    assert next_delivery(1, NOW, "503", backoff=backoff, retry_after=86_400) == RetryDelivery(NOW + 3600)


def test_attempts_count_from_one() -> None:
    with pytest.raises(JobqError, match="count from 1"):
        next_delivery(0, NOW, "x")


# -- the registry -------------------------------------------------------------------------------------


class Recorder:
    """A sink that keeps what it receives, and fails when told to."""

    def __init__(self, name: str = "recorder", error: BaseException | None = None, kinds: Any = None) -> None:
        self.name = name
        self.error = error
        self.kinds = kinds
        self.events: list[HookEvent] = []

    def deliver(self, event: HookEvent) -> None:
        self.events.append(event)
        if self.error is not None:
            raise self.error


def test_sinks_see_the_event_redacted_and_the_original_is_left_alone() -> None:
    recorder = Recorder()
    event = events_for_dead_letter(letter_dict("user_error"), now=NOW)[0]
    results = Hooks([recorder]).deliver(event)
    assert results == [SinkResult("recorder", "delivered", duration=results[0].duration)]
    seen = recorder.events[0]
    assert (seen.id, seen.kind, seen.created_at) == (event.id, event.kind, event.created_at)
    assert seen.data["payload"]["kwargs"]["to"] == PHONE
    assert seen.data["error_message"] == f"invalid number {PHONE}\nsecond line"
    assert seen.data["errors"][0]["message"] == f"invalid number {PHONE}"
    assert event.data["payload"]["kwargs"]["to"] == "+15550001111"


def test_an_alerts_message_and_dead_letter_are_redacted_too() -> None:
    recorder = Recorder()
    alert = events_for_dead_letter(letter_dict("system_error"), now=NOW)[1]
    Hooks([recorder]).deliver(alert)
    data = recorder.events[0].data
    assert data["message"].endswith(f"invalid number {PHONE}")
    assert data["dead_letter"]["payload"]["kwargs"]["to"] == PHONE


def test_a_chosen_redactor_applies_and_none_sends_events_as_they_are() -> None:
    strict, plain = Recorder("strict"), Recorder("plain")
    event = HookEvent.create("notify", {"payload": {"customer": "C-1", "phone": "+1"}}, now=NOW)
    Hooks([strict], redactor=Redactor(keys=["customer"])).deliver(event)
    Hooks([plain], redactor=Redactor.none()).deliver(event)
    assert strict.events[0].data["payload"] == {"customer": REDACTED, "phone": "+1"}
    assert plain.events[0].data == event.data


def test_a_failing_sink_does_not_block_the_others_and_the_result_says_which_failed() -> None:
    first, broken, last = Recorder("first"), Recorder("broken", RuntimeError("boom\nat bob@example.com")), Recorder()
    results = Hooks([first, broken, last]).deliver(HookEvent.create("on_dead", {}, now=NOW))
    assert [(result.sink, result.status, result.ok) for result in results] == [
        ("first", "delivered", True),
        ("broken", "failed", False),
        ("recorder", "delivered", True),
    ]
    assert results[1].error == f"RuntimeError: boom at {EMAIL}"  # one line, redacted
    assert len(last.events) == 1


def test_a_delivery_error_is_reported_as_its_own_message_with_the_retry_after_asked() -> None:
    refused = Recorder("hook", DeliveryError("hook answered HTTP 429", status_code=429, headers={"Retry-After": "90"}))
    wait = Recorder("wait", Retry("later", after=30))
    results = Hooks([refused, wait]).deliver(HookEvent.create("alert", {}, now=NOW))
    assert (results[0].error, results[0].retry_after) == ("hook answered HTTP 429", 90.0)
    assert (results[1].error, results[1].retry_after) == ("Retry: later", 30.0)


def test_very_long_errors_are_cut() -> None:
    results = Hooks([Recorder("long", ValueError("x" * 5000))]).deliver(HookEvent.create("alert", {}, now=NOW))
    assert results[0].error is not None and len(results[0].error) <= 500


def test_sinks_skip_the_kinds_they_do_not_want() -> None:
    alerts_only = Recorder("alerts", kinds=frozenset({"alert"}))
    hooks = Hooks([alerts_only])
    assert hooks.deliver(HookEvent.create("on_dead", {}, now=NOW)) == [SinkResult("alerts", "skipped")]
    assert hooks.deliver(HookEvent.create("alert", {}, now=NOW))[0].status == "delivered"
    assert [event.kind for event in alerts_only.events] == ["alert"]


def test_only_delivers_to_the_named_sinks_for_a_retry() -> None:
    first, second = Recorder("first"), Recorder("second")
    results = Hooks([first, second]).deliver(HookEvent.create("on_dead", {}, now=NOW), only={"second"})
    assert [result.sink for result in results] == ["second"]
    assert (len(first.events), len(second.events)) == (0, 1)


def test_sink_names_are_unique_and_sinks_need_name_and_deliver() -> None:
    hooks = Hooks([Recorder("a")])
    hooks.add(Recorder("b"))
    assert [sink.name for sink in hooks.sinks] == ["a", "b"]
    with pytest.raises(JobqError, match="named 'a' is there already"):
        hooks.add(Recorder("a"))
    with pytest.raises(JobqError, match="needs a name and deliver"):
        hooks.add(object())  # type: ignore[arg-type]


# -- the built-in sinks -----------------------------------------------------------------------------


def test_the_logging_sink_logs_one_line_with_the_event_attached(caplog: pytest.LogCaptureFixture) -> None:
    event = events_for_dead_letter(letter_dict("user_error"), now=NOW)[1]
    with caplog.at_level(logging.INFO, logger="jobq.hooks"):
        assert Hooks([LoggingSink()]).deliver(event)[0].status == "delivered"
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage() == (
        f"hook {event.id} notify: job 01JOB (tasks.send_sms) dead after 1 attempts: "
        f"ProviderError: invalid number {PHONE}"
    )
    assert record.jobq_event["data"]["payload"]["kwargs"]["to"] == PHONE  # type: ignore[attr-defined]


def test_the_logging_sink_takes_a_logger_and_a_level_by_name(caplog: pytest.LogCaptureFixture) -> None:
    sink = LoggingSink("ops.alerts", "warning", kinds=["alert"], name="ops log")
    assert (sink.level, sink.kinds) == (logging.WARNING, frozenset({"alert"}))
    with caplog.at_level(logging.WARNING, logger="ops.alerts"):
        sink.deliver(alert_event("new_fingerprint", "a failure never seen before", now=NOW))
    assert caplog.records[0].getMessage().endswith("alert new_fingerprint: a failure never seen before")
    with pytest.raises(JobqError, match="must be a logging level"):
        LoggingSink(level="LOUD")


def test_the_callable_sink_calls_plain_and_async_functions() -> None:
    seen: list[str] = []

    def plain(event: HookEvent) -> None:
        seen.append(f"plain {event.kind}")

    async def coroutine(event: HookEvent) -> None:
        await asyncio.sleep(0)
        seen.append(f"async {event.kind}")

    hooks = Hooks([CallableSink(plain), CallableSink(coroutine, kinds=["alert"])])
    assert [sink.name for sink in hooks.sinks] == [
        "callable test_the_callable_sink_calls_plain_and_async_functions.<locals>.plain",
        "callable test_the_callable_sink_calls_plain_and_async_functions.<locals>.coroutine",
    ]
    hooks.deliver(HookEvent.create("alert", {}, now=NOW))
    hooks.deliver(HookEvent.create("on_dead", {}, now=NOW))
    assert seen == ["plain alert", "async alert", "plain on_dead"]


def test_an_async_callable_inside_a_running_loop_fails_cleanly() -> None:
    async def coroutine(event: HookEvent) -> None:
        raise AssertionError("never awaited")

    async def inside_a_loop() -> list[SinkResult]:
        return Hooks([CallableSink(coroutine, name="async")]).deliver(HookEvent.create("alert", {}, now=NOW))

    [result] = asyncio.run(inside_a_loop())
    assert (result.status, result.error) == ("failed", "async is async and was called inside a running event loop")


def test_the_callable_sink_needs_a_callable() -> None:
    with pytest.raises(JobqError, match="needs a function"):
        CallableSink("print")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "secret", "timeout", "message"),
    [
        ("ftp://example.com/hook", SECRET, 5.0, "must be http:// or https://"),
        ("file:///etc/passwd", SECRET, 5.0, "must be http:// or https://"),
        ("https:///no-host", SECRET, 5.0, "must be http:// or https://"),
        ("https://example.com/hook", "", 5.0, "secret must not be empty"),
        ("https://example.com/hook", SECRET, 0, "timeout must be a number of seconds > 0"),
    ],
)
def test_webhook_settings_are_checked_when_built(url: str, secret: str, timeout: float, message: str) -> None:
    with pytest.raises(JobqError, match=message):
        WebhookSink(url, secret, timeout=timeout)


def test_a_webhooks_name_and_repr_never_show_its_secret_path_or_query() -> None:
    sink = WebhookSink("https://hooks.example.com:8443/services/T000/B000/XXXX?token=abc", "s3cret")
    assert sink.name == "webhook https://hooks.example.com:8443"
    assert "s3cret" not in repr(sink)


def test_a_webhook_request_is_signed_json_with_the_jobq_headers() -> None:
    sink = WebhookSink(
        "http://user:p%40ss@127.0.0.1:9/hook",
        SECRET,
        headers={"X-Api-Key": "k", "X-Jobq-Event": "forged"},
        clock=lambda: NOW + 0.7,
    )
    event = HookEvent.create("notify", {"n": 1}, now=NOW)
    body, headers = sink.request(event)
    assert json.loads(body) == event.to_dict()
    assert headers["Content-Type"] == "application/json"
    assert (headers["X-Jobq-Event"], headers["X-Jobq-Delivery"], headers["X-Jobq-Timestamp"]) == (
        "notify",
        event.id,
        "1767225600",
    )
    assert headers["X-Api-Key"] == "k"
    assert headers["Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
    assert verify_signature(SECRET, headers["X-Jobq-Timestamp"], body, headers["X-Jobq-Signature"], now=NOW)
