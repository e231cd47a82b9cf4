"""Every failure of the messaging example end to end: HttpProvider → fake provider on loopback → worker → DLQ.

Real HTTP, real SQLite files, the provider injected by the app (never patched); checked through the Python API.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from examples.messaging.app import build_app
from examples.messaging.fake_server import FakeProviderServer
from examples.messaging.http_provider import HttpProvider
from examples.messaging.send import SAMPLE, enqueue_messages

import jobq

from .conftest import CLIENT_TIMEOUT, drain, job, letter_of

FAST = jobq.Fixed(0.05)
HTTP_ERROR = "examples.messaging.provider.ProviderHTTPError"
TIMEOUT = "examples.messaging.provider.ProviderTimeout"


def test_rate_limited_and_overloaded_sends_wait_for_retry_after_then_are_delivered(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    # The task's own backoff is 30 s: only the provider's Retry-After (1 s) can explain a quick second attempt.
    with build_app(file_url, provider=http_provider, backoff=jobq.Fixed(30.0)) as app:
        ids = enqueue_messages(app, [("acme", "+15554290001"), ("globex", "+15555030001")])
        drain(app)
        for job_id, status in zip(ids, ("HTTP 429 rate_limited", "HTTP 503 unavailable"), strict=True):
            done = job(app, job_id)
            assert (done.status, done.attempts) == ("succeeded", 2)
            (error,) = done.errors
            assert error.error_type == HTTP_ERROR and error.message.startswith(status)
            assert done.started_at is not None
            assert 0.95 <= done.started_at.timestamp() - error.at.timestamp() < 5
    assert sorted(sent["to"] for sent in fake_provider.delivered) == ["+15554290001", "+15555030001"]


def test_an_invalid_number_is_dead_at_once_as_a_user_error(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    with build_app(file_url, provider=http_provider, backoff=FAST) as app:
        (job_id,) = enqueue_messages(app, [("acme", "+15550001111")])
        drain(app)
        assert job(app, job_id).status == "dead"
        letter = letter_of(app, job_id)
    assert (letter.error_class, letter.attempts, len(letter.errors)) == ("user_error", 1, 1)
    assert letter.error_type == HTTP_ERROR
    assert letter.error_message == "HTTP 400 invalid_number: +15550001111 is not a valid mobile number"
    assert letter.payload["kwargs"]["to"] == "+15550001111" and letter.tenant == "acme"
    assert fake_provider.outcomes.requests["+15550001111"] == 1
    assert fake_provider.delivered == []


def test_a_provider_500_is_retried_then_dead_lettered_as_a_system_error(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    with build_app(file_url, provider=http_provider, backoff=FAST, max_attempts=3) as app:
        (job_id,) = enqueue_messages(app, [("initech", "+15555000001")])
        drain(app)
        letter = letter_of(app, job_id)
    assert (letter.error_class, letter.attempts) == ("system_error", 3)
    assert [error.attempt for error in letter.errors] == [1, 2, 3]
    assert all(error.message.startswith("HTTP 500 internal_error") for error in letter.errors)
    assert fake_provider.outcomes.requests["+15555000001"] == 3


def test_timeouts_during_an_outage_are_recoverable_and_a_replay_delivers_them_once_it_ends(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    fake_provider.down()
    with build_app(file_url, provider=http_provider, backoff=FAST) as app:
        ids = enqueue_messages(app, [("acme", "+15551239991"), ("globex", "+15551239992")])
        drain(app)
        letters = [letter_of(app, job_id) for job_id in ids]
        assert [(x.error_class, x.error_type, x.attempts) for x in letters] == [("recoverable", TIMEOUT, 3)] * 2
        assert fake_provider.delivered == []

        fake_provider.up()
        report = app.dlq.replay_many(error_class="recoverable")
        assert report.replayed == 2
        drain(app)
        for before in letters:
            after = app.dlq.get(before.id)
            # They were in the recovery queue, and their replay succeeded: recovered.
            assert after is not None and after.resolution == "recovered" and after.replayed_as is not None
            replayed = job(app, after.replayed_as)
            assert (replayed.status, replayed.replay_of) == ("succeeded", before.id)
    assert sorted(sent["to"] for sent in fake_provider.delivered) == ["+15551239991", "+15551239992"]


def test_a_corrected_number_replayed_with_the_fixed_payload_is_delivered(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    with build_app(file_url, provider=http_provider, backoff=FAST) as app:
        (job_id,) = enqueue_messages(app, [("acme", "+15550001111")])
        drain(app)
        letter = letter_of(app, job_id)
        fixed = {"args": [], "kwargs": {**letter.payload["kwargs"], "to": "+15551231111"}}
        new_id = app.dlq.replay(letter.id, payload=fixed)
        drain(app)
        assert job(app, new_id).status == "succeeded"
        kept = app.dlq.get(letter.id)
        assert kept is not None and kept.payload["kwargs"]["to"] == "+15550001111"  # the original stays on record
        with pytest.raises(jobq.AlreadyReplayed):
            app.dlq.replay(letter.id)
    assert [sent["to"] for sent in fake_provider.delivered] == ["+15551231111"]


def test_a_wrong_api_key_dead_letters_as_a_system_error_by_the_examples_policy(
    file_url: str, fake_provider: FakeProviderServer
) -> None:
    provider = HttpProvider(fake_provider.url, "revoked-key", timeout=CLIENT_TIMEOUT)
    with build_app(file_url, provider=provider, backoff=FAST, max_attempts=2) as app:
        (job_id,) = enqueue_messages(app, [("acme", "+15551230001")])
        drain(app)
        letter = letter_of(app, job_id)
    provider.close()
    assert (letter.error_class, letter.attempts) == ("system_error", 2)
    assert letter.error_message == "HTTP 401 unauthorized: missing or wrong API key"


def test_the_sample_batch_lands_by_class_and_the_invalid_numbers_share_one_fingerprint(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    with build_app(file_url, provider=http_provider, backoff=FAST) as app:
        ids = enqueue_messages(app, SAMPLE)
        drain(app)
        statuses = Counter(job(app, job_id).status for job_id in ids)
        by_class = {group.value: group.count for group in app.dlq.groups(by="class")}
        by_fingerprint = sorted(group.count for group in app.dlq.groups(by="fingerprint"))
        stats = app.stats()
    assert statuses == {"succeeded": 8, "dead": 3}
    assert by_class == {"user_error": 2, "system_error": 1}
    assert by_fingerprint == [1, 2]
    assert stats["by_class"]["user_error"] == 2 and stats["dlq"]["total_failed"] == 3
    assert len(fake_provider.delivered) == 8


class ShiftedClock:
    """The real clock, plus however far the test has jumped ahead (to get past any cool-down at once)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def test_timeouts_heal_by_themselves_through_the_recovery_queue_once_the_provider_is_back(
    file_url: str, http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    clock = ShiftedClock()
    fake_provider.down()
    with build_app(file_url, provider=http_provider, backoff=FAST, clock=clock) as app:
        (job_id,) = enqueue_messages(app, [("acme", "+15551239991")])
        drain(app)
        letter = letter_of(app, job_id)
        assert letter.error_class == "recoverable"
        assert letter.resolution == "pending_recovery"
        assert app.stats()["dlq"]["recovery"]["pending_recovery"] == 1

        fake_provider.up()
        clock.offset = 86_400.0  # a day later: past any cool-down
        worker = jobq.Worker(app, dependencies=app.dependencies)
        runner = threading.Thread(target=worker.run, kwargs={"install_signal_handlers": False})
        runner.start()
        try:
            deadline = time.monotonic() + 10
            while (current := app.dlq.get(letter.id)) is not None and current.resolution != "recovered":
                assert time.monotonic() < deadline, f"still {current.resolution} after 10 s"
                time.sleep(0.05)
        finally:
            worker.stop()
            runner.join(timeout=10)
    assert [sent["to"] for sent in fake_provider.delivered] == ["+15551239991"]
