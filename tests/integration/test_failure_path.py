"""The failure path end to end, in one process, on real SQLite databases (a file and ``:memory:``).

attempt fails → classified (task overrides, declarative policy, defaults) → retried after its backoff or its
own delay, or dead-lettered with its whole error history → inspected → replayed → succeeds.
"""

from __future__ import annotations

import logging
import time

import pytest

import jobq
from jobq.recovery import RecoveryPolicy
from jobq.worker.failure import UNKNOWN_TASK_ATTEMPTS

from .harness import (
    MESSAGE_LIMIT,
    TRACEBACK_LIMIT,
    HTTPStatusError,
    ManualClock,
    dlq_lines,
    seconds,
    status,
    work,
)


class Unprintable(Exception):
    """An exception that cannot even say what it is."""

    def __str__(self) -> str:
        raise RuntimeError("__str__ exploded")


class FlakyProvider:
    """A message provider injected into handlers; broken until the test fixes it."""

    def __init__(self) -> None:
        self.broken = True
        self.sent: list[str] = []

    def send(self, to: str) -> None:
        if self.broken:
            raise RuntimeError(f"provider exploded while sending to {to}")
        self.sent.append(to)


def test_failing_job_is_retried_dead_lettered_with_full_history_and_replay_succeeds(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    provider = FlakyProvider()
    with jobq.App(url, dependencies={"provider": provider}) as app:

        @app.task(name="sms.send", max_attempts=3, backoff=jobq.Fixed(0.0))
        def send(to: str, *, provider: FlakyProvider) -> None:
            provider.send(to)

        job_id = send.enqueue(to="+15550100", _tenant="acme", _key="msg-42")
        caplog.set_level(logging.WARNING, logger="jobq")
        summary = work(app)

        assert (summary.succeeded, summary.retried, summary.dead) == (0, 2, 1)
        job = app.get_job(job_id)
        assert job is not None
        assert (job.status, job.attempts, job.max_attempts) == ("dead", 3, 3)
        assert dlq_lines(caplog) == [f"Job {job_id} moved to DLQ after 3 attempts: RuntimeError"]

        [light] = app.dlq.list()
        letter = app.dlq.get(light.id)
        assert letter is not None
        assert (letter.job_id, letter.task, letter.queue, letter.tenant, letter.key) == (
            job_id, "sms.send", "default", "acme", "msg-42"
        )  # fmt: skip
        assert letter.payload == {"args": [], "kwargs": {"to": "+15550100"}}
        assert (letter.attempts, letter.error_class, letter.resolution) == (3, "unknown", "open")
        assert letter.error_type == "RuntimeError"
        assert letter.error_message == "provider exploded while sending to +15550100"
        assert "provider exploded" in letter.error_traceback and "Traceback" in letter.error_traceback
        assert len(letter.fingerprint) == 16

        assert [error.attempt for error in letter.errors] == [1, 2, 3]
        for error in letter.errors:
            assert error.error_type == "RuntimeError"
            assert error.message == "provider exploded while sending to +15550100"
            assert "Traceback (most recent call last)" in error.traceback
            assert "in send" in error.traceback
            assert 0 < len(error.traceback) <= TRACEBACK_LIMIT
            assert error.worker == summary.worker
            assert error.duration is not None and 0.0 <= error.duration < 5.0
            assert abs(seconds(error.at) - time.time()) < 60
        assert [seconds(e.at) for e in letter.errors] == sorted(seconds(e.at) for e in letter.errors)
        assert job.errors == letter.errors

        provider.broken = False
        new_id = app.dlq.replay(letter.id)
        assert new_id != job_id
        replayed = app.get_job(new_id)
        assert replayed is not None
        assert (replayed.status, replayed.attempts, replayed.replay_of) == ("queued", 0, letter.id)
        assert (replayed.tenant, replayed.key, replayed.payload) == ("acme", "msg-42", letter.payload)

        assert work(app).succeeded == 1
        done = app.get_job(new_id)
        assert done is not None
        assert (done.status, done.attempts, done.errors) == ("succeeded", 1, ())
        assert provider.sent == ["+15550100"]
        after = app.dlq.get(letter.id)
        assert after is not None
        assert (after.resolution, after.replayed_as) == ("replayed", new_id)
        assert after.replayed_at is not None


def test_huge_error_is_recorded_bounded_and_the_worker_goes_on(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="deep", max_attempts=1)
        def deep(depth: int) -> None:
            if depth == 0:
                raise ValueError("x" * 200_000)
            deep(depth - 1)

        @app.task(name="fine")
        def fine() -> None:
            pass

        dead_id = deep.enqueue(depth=300)
        ok_id = fine.enqueue()
        work(app)

        [letter] = app.dlq.list(with_payload=True)
        assert letter.job_id == dead_id
        [error] = letter.errors
        assert error.error_type == "ValueError"
        assert len(error.message) <= MESSAGE_LIMIT and error.message.startswith("xxx")
        assert 0 < len(error.traceback) <= TRACEBACK_LIMIT and len(letter.error_traceback) <= TRACEBACK_LIMIT
        assert "Traceback (most recent call last)" in error.traceback
        assert status(app, ok_id) == "succeeded"


def test_exception_whose_str_raises_is_recorded_as_unprintable(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="weird", max_attempts=2, backoff=0)
        def weird() -> None:
            raise Unprintable()

        job_id = weird.enqueue()
        summary = work(app)

        assert (summary.retried, summary.dead) == (1, 1)
        [letter] = app.dlq.list(with_payload=True)
        assert letter.job_id == job_id
        assert letter.error_type.endswith("Unprintable")
        assert letter.error_message == "<unprintable Unprintable: str() raised RuntimeError>"
        assert [e.message for e in letter.errors] == ["<unprintable Unprintable: str() raised RuntimeError>"] * 2
        assert all(e.traceback for e in letter.errors)


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(jobq.Permanent("this number can never receive SMS"), id="jobq.Permanent"),
        pytest.param(HTTPStatusError(400), id="http-400"),
        pytest.param(HTTPStatusError(422), id="http-422"),
    ],
)
def test_user_errors_go_straight_to_the_dlq_after_one_attempt(url: str, error: Exception) -> None:
    with jobq.App(url) as app:

        @app.task(name="send", max_attempts=5, backoff=0)
        def send() -> None:
            raise error

        job_id = send.enqueue()
        summary = work(app)

        assert (summary.retried, summary.dead) == (0, 1)
        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("dead", 1)
        [letter] = app.dlq.list()
        assert (letter.attempts, letter.error_class) == (1, "user_error")


def test_http_503_with_retry_after_is_retried_after_that_delay(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="call", max_attempts=3, backoff=jobq.Fixed(1.0))
        def call() -> None:
            raise HTTPStatusError(503, {"Retry-After": "120"})

        job_id = call.enqueue()
        started = time.monotonic()
        summary = work(app)

        assert time.monotonic() - started < 10, "burst must not wait for a retry scheduled later"
        assert (summary.retried, summary.dead) == (1, 0)
        job = app.get_job(job_id)
        assert job is not None
        assert (job.status, job.attempts) == ("queued", 1)
        [error] = job.errors
        assert error.error_type.endswith("HTTPStatusError") and error.message == "HTTP 503 from the provider"
        assert seconds(job.run_at) - seconds(error.at) == pytest.approx(120, abs=0.5)
        assert app.stats()["queues"]["default"]["scheduled"] == 1


def test_retry_with_after_schedules_the_next_attempt_that_much_later(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="poll", max_attempts=3, backoff=jobq.Fixed(1.0))
        def poll() -> None:
            raise jobq.Retry("not ready yet", after=30)

        job_id = poll.enqueue()
        work(app)

        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("queued", 1)
        [error] = job.errors
        assert (error.error_type, error.message) == ("jobq.Retry", "not ready yet")
        assert seconds(job.run_at) - seconds(error.at) == pytest.approx(30, abs=0.5)


def test_task_retry_on_overrides_a_user_error_and_dead_on_overrides_a_retryable_one(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="stubborn", max_attempts=3, backoff=0, retry_on=(HTTPStatusError,))
        def stubborn() -> None:
            raise HTTPStatusError(400)

        @app.task(name="fragile", max_attempts=3, backoff=0, dead_on=(ConnectionError,))
        def fragile() -> None:
            raise ConnectionResetError("peer went away")

        stubborn_id, fragile_id = stubborn.enqueue(), fragile.enqueue()
        work(app)

        stubborn_job, fragile_job = app.get_job(stubborn_id), app.get_job(fragile_id)
        assert stubborn_job is not None and fragile_job is not None
        assert (stubborn_job.status, stubborn_job.attempts) == ("dead", 3)  # retried despite being a 400
        assert (fragile_job.status, fragile_job.attempts) == ("dead", 1)  # not retried despite being transient
        classes = {letter.task: letter.error_class for letter in app.dlq.list()}
        assert classes == {"stubborn": "user_error", "fragile": "recoverable"}


def test_declarative_policy_decides_class_action_and_delay(url: str) -> None:
    policy = {
        "rules": [
            {"type": "KeyError", "class": "user_error", "action": "dead"},
            {"message": "rate limited", "class": "recoverable", "action": "retry", "delay": 42},
            {"status": 418, "class": "system_error", "action": "dead"},
        ]
    }
    with jobq.App(url, policy=policy) as app:

        @app.task(name="lookup", max_attempts=3, backoff=0)
        def lookup() -> None:
            raise KeyError("tenant")

        @app.task(name="throttled", max_attempts=3, backoff=0)
        def throttled() -> None:
            raise RuntimeError("provider says: rate limited, slow down")

        @app.task(name="teapot", max_attempts=3, backoff=0)
        def teapot() -> None:
            raise HTTPStatusError(418)

        lookup_id, throttled_id, teapot_id = lookup.enqueue(), throttled.enqueue(), teapot.enqueue()
        work(app)

        lookup_job, throttled_job, teapot_job = (app.get_job(i) for i in (lookup_id, throttled_id, teapot_id))
        assert lookup_job is not None and throttled_job is not None and teapot_job is not None
        assert (lookup_job.status, lookup_job.attempts) == ("dead", 1)  # KeyError is "unknown, retry" by default
        assert (teapot_job.status, teapot_job.attempts) == ("dead", 1)
        assert (throttled_job.status, throttled_job.attempts) == ("queued", 1)
        assert seconds(throttled_job.run_at) - seconds(throttled_job.errors[0].at) == pytest.approx(42, abs=0.5)
        classes = {letter.task: letter.error_class for letter in app.dlq.list()}
        assert classes == {"lookup": "user_error", "teapot": "system_error"}


def test_unknown_task_is_retried_through_a_deploy_then_dead_lettered_with_its_payload(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    clock = ManualClock()
    with jobq.App(url, clock=clock) as app:
        ran: list[int] = []

        @app.task(name="known")
        def known(n: int) -> None:
            ran.append(n)

        lost_id = app.enqueue("billing.no_such_task", {"invoice": 7}, args=[1, "two"], tenant="acme")
        ok_ids = [known.enqueue(n=n) for n in range(3)]
        caplog.set_level(logging.WARNING, logger="jobq")
        summary = work(app)

        assert sorted(ran) == [0, 1, 2]
        assert all(status(app, i) == "succeeded" for i in ok_ids)
        assert (summary.succeeded, summary.retried, summary.dead) == (3, 1, 0)
        waited = []
        for attempt in range(2, UNKNOWN_TASK_ATTEMPTS + 1):  # 10 s, 20 s ... 10 min: a rolling deploy's time
            job = app.get_job(lost_id)
            assert job is not None and (job.status, job.attempts) == ("queued", attempt - 1)
            waited.append(seconds(job.run_at) - clock.now)
            clock.advance(waited[-1] + 0.01)
            work(app)
        assert [round(delay) for delay in waited] == [10, 20, 40, 80, 160, 320, 600]

        [letter] = app.dlq.list(with_payload=True)
        assert (letter.job_id, letter.task, letter.tenant) == (lost_id, "billing.no_such_task", "acme")
        assert letter.payload == {"args": [1, "two"], "kwargs": {"invoice": 7}}
        assert (letter.error_type, letter.error_class) == ("jobq.UnknownTask", "system_error")
        assert letter.attempts == UNKNOWN_TASK_ATTEMPTS
        assert "billing.no_such_task" in letter.error_message
        assert dlq_lines(caplog) == [f"Job {lost_id} moved to DLQ after 8 attempts: jobq.UnknownTask"]


def test_unknown_task_runs_once_a_worker_that_knows_it_is_deployed(url: str) -> None:
    clock = ManualClock()
    with jobq.App(url, clock=clock) as app:
        # max_attempts=1: the attempts spent waiting for the deploy are not the handler's failures.
        job_id = app.enqueue("report.build", {"month": 11}, max_attempts=1)
        work(app, queues=["default"])
        clock.advance(10)
        work(app, queues=["default"])
        ran: list[int] = []

        @app.task(name="report.build", max_attempts=1)
        def build(month: int) -> None:
            ran.append(month)

        clock.advance(20)
        summary = work(app)

        assert (ran, summary.succeeded, status(app, job_id)) == ([11], 1, "succeeded")


def test_payload_the_handler_cannot_accept_is_a_recorded_user_error(url: str) -> None:
    with jobq.App(url) as app:
        # Enqueued by name before the task is registered here: nothing checks it at enqueue.
        bad_id = app.enqueue("greet", {"nmae": "Ada"})

        @app.task(name="greet", max_attempts=3, backoff=0)
        def greet(name: str) -> None:
            pass

        good_id = greet.enqueue(name="Grace")
        summary = work(app)

        assert (summary.succeeded, summary.retried, summary.dead) == (1, 0, 1)
        bad = app.get_job(bad_id)
        assert bad is not None and (bad.status, bad.attempts) == ("dead", 1)
        [error] = bad.errors
        assert error.error_type == "jobq.PayloadError" and "'name'" in error.message
        [letter] = app.dlq.list(with_payload=True)
        assert (letter.job_id, letter.error_class, letter.payload) == (
            bad_id,
            "user_error",
            {"args": [], "kwargs": {"nmae": "Ada"}},
        )
        assert status(app, good_id) == "succeeded"


def test_job_enqueued_by_name_obeys_the_tasks_max_attempts_in_the_worker(url: str) -> None:
    with jobq.App(url) as app:
        job_id = app.enqueue("flaky")  # the producer does not know the task or its options

        @app.task(name="flaky", max_attempts=2, backoff=0)
        def flaky() -> None:
            raise ConnectionError("refused")

        summary = work(app)

        assert (summary.retried, summary.dead) == (1, 1)
        job = app.get_job(job_id)
        assert job is not None and (job.status, job.attempts) == ("dead", 2)
        [letter] = app.dlq.list()
        assert (letter.attempts, letter.error_class) == (2, "recoverable")


def test_recoverable_dead_letter_waits_in_the_recovery_queue(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="call", max_attempts=2, backoff=0)
        def call() -> None:
            raise ConnectionError("connection refused")

        @app.task(name="bad")
        def bad() -> None:
            raise jobq.Permanent("invalid number")

        call.enqueue()
        bad.enqueue()
        work(app)

        assert {letter.task: letter.resolution for letter in app.dlq.list()} == {
            "call": "pending_recovery",
            "bad": "open",
        }
        assert app.stats()["dlq"]["recovery"]["pending_recovery"] == 1


def test_recovery_queue_replays_after_the_cool_down_and_marks_the_letter_recovered(url: str) -> None:
    clock = ManualClock()
    outage = {"on": True}
    with jobq.App(url, clock=clock, recovery=RecoveryPolicy(cooldown=60, factor=2, rounds=2)) as app:

        @app.task(name="call", max_attempts=1)
        def call() -> None:
            if outage["on"]:
                raise ConnectionError("connection refused")

        call.enqueue()
        work(app)
        (letter,) = app.dlq.list()
        assert letter.resolution == "pending_recovery" and letter.recovery_round == 0
        assert letter.recover_at is not None and seconds(letter.recover_at) == pytest.approx(clock() + 60)

        work(app)  # not due yet: nothing replayed
        assert app.dlq.count(resolution="pending_recovery") == 1

        clock.advance(61)  # still down: the replay dies, and the new letter follows the old one
        work(app)
        second = app.dlq.list(resolution="pending_recovery")[0]
        assert second.previous_id == letter.id and second.recovery_round == 1
        assert seconds(second.recover_at) == pytest.approx(clock() + 120)
        assert getattr(app.dlq.get(letter.id), "resolution", None) == "replayed"

        outage["on"] = False
        clock.advance(121)
        work(app)
        healed = app.dlq.get(second.id)
        assert healed is not None and healed.resolution == "recovered"
        recovery = app.stats()["dlq"]["recovery"]
        assert recovery == {"total_in_recovery": 2, "pending_recovery": 0, "recovered": 1, "abandoned": 0}


def test_recovery_gives_up_after_its_rounds_and_leaves_the_letter_open(url: str) -> None:
    clock = ManualClock()
    with jobq.App(url, clock=clock, recovery=RecoveryPolicy(cooldown=10, rounds=1)) as app:

        @app.task(name="call", max_attempts=1)
        def call() -> None:
            raise TimeoutError("read timed out")

        call.enqueue()
        work(app)
        clock.advance(11)
        work(app)
        last = app.dlq.list()[0]
        assert (last.resolution, last.recovery_round, last.recover_at) == ("open", 1, None)
        clock.advance(10_000)
        work(app)
        assert app.dlq.count() == 2  # nothing more was replayed
