"""Tracked redrives on real databases with a real worker: progress, cancel and resume, a crashed run taken
over, the outcome by fingerprint; and the audit trail of replays (edited or not) and abandons."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

import jobq
from jobq.dlq import ReplayResult
from jobq.job import DeadLetterId
from jobq.redrive import RedriveId

from .harness import ManualClock, get_job, get_letter, work


class Provider:
    """Fails every message until fixed; after the fix, numbers in ``blocked`` are refused for another reason."""

    def __init__(self) -> None:
        self.fixed = False
        self.blocked: set[int] = set()
        self.sent: list[int] = []

    def send(self, n: int, kind: str) -> None:
        if not self.fixed:
            raise jobq.Permanent(f"invalid number {n}" if kind == "number" else "template missing")
        if kind == "template":
            raise jobq.Permanent("template missing")
        if n in self.blocked:
            raise jobq.Permanent("number blocked by carrier")
        self.sent.append(n)


@pytest.fixture
def provider() -> Provider:
    return Provider()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(shared_url: str, provider: Provider, clock: ManualClock) -> Iterator[jobq.App]:
    with jobq.App(shared_url, dependencies={"provider": provider}, clock=clock) as application:
        register(application)
        yield application


def register(app: jobq.App) -> None:
    @app.task(name="send", max_attempts=1)
    def send(n: int, kind: str = "number", *, provider: Provider) -> None:
        provider.send(n, kind)


def make_dead(app: jobq.App, numbers: range, *, kind: str = "number") -> list[str]:
    """Dead letters of ``send`` (one attempt each), newest first: the order a redrive walks them."""
    app.enqueue_many("send", [{"n": n, "kind": kind} for n in numbers])
    work(app)
    return [letter.id for letter in app.dlq.list(limit=1000)]


def fingerprint_of(app: jobq.App, *, search: str) -> str:
    [group] = app.dlq.groups(by="fingerprint", search=search)
    assert group.value is not None
    return group.value


def replays_per_letter(app: jobq.App) -> Counter[str]:
    """How many jobs were made from each dead letter."""
    return Counter(str(job.replay_of) for job in app.list_jobs(limit=1000) if job.replay_of is not None)


def test_a_redrive_by_filter_records_who_what_and_its_progress_then_its_outcome_by_fingerprint(
    app: jobq.App, provider: Provider, clock: ManualClock
) -> None:
    make_dead(app, range(4))
    make_dead(app, range(4, 6), kind="template")
    make_dead(app, range(6, 8))
    for letter in app.dlq.list(limit=2):  # 7 and 6: someone gave up on those
        app.dlq.abandon(letter.id, note="customer gone")
    numbers, templates = fingerprint_of(app, search="invalid number"), fingerprint_of(app, search="template")

    started_at = clock()
    report = app.dlq.replay_many(task="send", by="ops@example.com")
    assert (report.matched, report.replayed, report.state) == (6, 6, "finished")
    assert report.redrive_id is not None
    redrive = app.dlq.get_redrive(report.redrive_id)
    assert redrive is not None
    assert (redrive.state, redrive.matched, redrive.replayed, redrive.skipped) == ("finished", 6, 6, 0)
    assert (redrive.started_by, redrive.force, redrive.rate) == ("ops@example.com", False, None)
    assert redrive.filters == {"task": "send", "unresolved": True}
    assert redrive.created_at.timestamp() == pytest.approx(started_at, abs=1e-5)  # datetimes keep microseconds
    assert app.dlq.list_redrives() == [redrive]
    assert [o.pending for o in app.dlq.redrive_outcome(redrive.id)] == [4, 2]  # nothing ran yet

    provider.fixed, provider.blocked = True, {3}
    clock.advance(60)
    work(app)

    blocked = fingerprint_of(app, search="blocked")
    assert sorted(provider.sent) == [0, 1, 2]
    assert app.dlq.redrive_outcome(redrive.id) == [
        jobq.RedriveOutcome(numbers, replayed=4, succeeded=3, died_again=1, died_with={blocked: 1}),
        jobq.RedriveOutcome(templates, replayed=2, died_again=2, died_with={templates: 2}),
    ]

    # Cleared jobs: a success leaves no trace but the link (unknown); a death leaves its dead letter.
    assert app.clear(["succeeded", "dead"]) >= 3
    [after_clear, _] = app.dlq.redrive_outcome(redrive.id)
    assert (after_clear.succeeded, after_clear.unknown, after_clear.died_again) == (0, 3, 1)


def test_cancelled_part_way_then_resumed_it_replays_the_rest_and_nothing_twice(
    app: jobq.App, shared_url: str, clock: ManualClock
) -> None:
    letters = make_dead(app, range(10))
    app.dlq.page_size = 3  # several pages, and a cancel that lands inside one
    seen: list[ReplayResult] = []

    with jobq.App(shared_url) as operator:  # another process on the same database

        def cancel_after_four(result: ReplayResult) -> None:
            seen.append(result)
            if len(seen) == 1:
                operator.dlq.replay(
                    DeadLetterId(letters[2]), by="bob"
                )  # in the page already read: the redrive will pass it over
            if len(seen) == 4:
                [running] = operator.dlq.list_redrives(limit=1)
                assert operator.dlq.cancel_redrive(running.id) is True

        report = app.dlq.replay_many(progress=cancel_after_four)
        assert report.redrive_id is not None
        assert report.state == "cancelled"
        assert [r.outcome for r in report.results] == ["replayed", "replayed", "already_replayed", "replayed"]
        cancelled = operator.dlq.get_redrive(report.redrive_id)
        assert cancelled is not None
        assert (cancelled.state, cancelled.replayed, cancelled.skipped, cancelled.cursor) == (
            "cancelled", 3, 1, letters[3]
        )  # fmt: skip
        assert operator.dlq.cancel_redrive(report.redrive_id) is False  # not running any more

        clock.advance(30)
        resumed = app.dlq.resume_redrive(report.redrive_id)

    assert (resumed.redrive_id, resumed.state, resumed.matched) == (report.redrive_id, "finished", 10)
    assert [r.dead_letter_id for r in resumed.results] == letters[4:]
    done = app.dlq.get_redrive(report.redrive_id)
    assert done is not None and (done.state, done.replayed, done.skipped, done.matched) == ("finished", 9, 1, 10)
    assert done.updated_at.timestamp() == pytest.approx(clock(), abs=1e-5)
    assert replays_per_letter(app) == Counter({letter: 1 for letter in letters})
    with pytest.raises(jobq.JobqError, match="finished"):
        app.dlq.resume_redrive(report.redrive_id)
    with pytest.raises(jobq.NotFound):
        app.dlq.resume_redrive(RedriveId("01NOSUCHREDRIVE00000000000"))


def test_a_redrive_left_running_by_a_crash_is_taken_over_by_a_resume_elsewhere(app: jobq.App, shared_url: str) -> None:
    letters = make_dead(app, range(7))
    app.dlq.page_size = 2

    def crash_after_three(result: ReplayResult) -> None:
        if result.dead_letter_id == letters[2]:
            raise RuntimeError("the process died")

    with pytest.raises(RuntimeError):
        app.dlq.replay_many(force=True, progress=crash_after_three)  # forced: only the redrive prevents doubles
    [crashed] = app.dlq.list_redrives()
    assert (crashed.state, crashed.replayed, crashed.cursor, crashed.force) == ("running", 3, letters[2], True)

    with jobq.App(shared_url) as other:
        register(other)
        report = other.dlq.resume_redrive(crashed.id, by="night shift")
        assert [r.dead_letter_id for r in report.results] == letters[3:]

        taken = other.dlq.get_redrive(crashed.id)
        assert taken is not None and (taken.state, taken.replayed, taken.skipped) == ("finished", 7, 0)
        assert taken.owner != crashed.owner and taken.started_by is None
        assert replays_per_letter(other) == Counter({letter: 1 for letter in letters})
        trail = other.dlq.audit_trail(DeadLetterId(letters[-1]))
        assert [(entry.by, entry.detail["redrive_id"]) for entry in trail] == [("night shift", crashed.id)]


def test_a_run_stopped_by_ctrl_c_is_recorded_as_cancelled(app: jobq.App) -> None:
    make_dead(app, range(3))

    def interrupt(result: ReplayResult) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        app.dlq.replay_many(progress=interrupt)
    [stopped] = app.dlq.list_redrives()
    assert (stopped.state, stopped.replayed) == ("cancelled", 1)
    assert app.dlq.resume_redrive(stopped.id).state == "finished"


def test_a_dry_run_counts_and_records_nothing(app: jobq.App) -> None:
    make_dead(app, range(2))
    report = app.dlq.replay_many(dry_run=True)
    assert (report.matched, report.redrive_id, report.state) == (2, None, None)
    assert app.dlq.list_redrives() == []


def test_edit_then_replay_keeps_the_original_on_the_letter_and_both_payloads_in_the_audit_trail(
    app: jobq.App, provider: Provider, clock: ManualClock
) -> None:
    [letter_id] = make_dead(app, range(1))
    original = get_letter(app, letter_id).payload
    provider.fixed = True
    edited = {"args": [], "kwargs": {"n": 42, "kind": "number"}}

    clock.advance(5)
    job_id = app.dlq.replay(DeadLetterId(letter_id), payload=edited, by="alice")
    work(app)

    assert get_letter(app, letter_id).payload == original
    assert get_job(app, job_id).payload == edited and get_job(app, job_id).status == "succeeded"
    assert provider.sent == [42]
    [entry] = app.dlq.audit_trail(DeadLetterId(letter_id))
    assert (entry.dead_letter_id, entry.action, entry.by) == (letter_id, "replayed", "alice")
    assert entry.at.timestamp() == pytest.approx(clock(), abs=1e-5)
    assert entry.detail == {
        "job_id": job_id, "force": False, "redrive_id": None, "original_payload": original, "payload": edited,
    }  # fmt: skip


def test_every_replay_and_abandon_is_audited_and_a_refused_one_leaves_no_entry(app: jobq.App) -> None:
    first, second = make_dead(app, range(2))
    job_id = app.dlq.replay(DeadLetterId(first), by="alice")
    with pytest.raises(jobq.AlreadyReplayed):
        app.dlq.replay(DeadLetterId(first), by="mallory")
    forced = app.dlq.replay(DeadLetterId(first), force=True)  # the recovery queue names no one

    assert app.dlq.abandon(DeadLetterId(second), note="customer deleted", by="bob") is True
    assert app.dlq.abandon(DeadLetterId(second), note="again", by="bob") is False
    with pytest.raises(jobq.NotFound):
        app.dlq.abandon(DeadLetterId("01NOSUCHDEADLETTER00000000"), by="bob")

    assert [(e.action, e.by, e.detail) for e in app.dlq.audit_trail(DeadLetterId(first))] == [
        ("replayed", "alice", {"job_id": job_id, "force": False, "redrive_id": None}),
        ("replayed", None, {"job_id": forced, "force": True, "redrive_id": None}),
    ]
    assert [(e.action, e.by, e.detail) for e in app.dlq.audit_trail(DeadLetterId(second))] == [
        ("abandoned", "bob", {"note": "customer deleted"})
    ]
    assert app.dlq.audit_trail(DeadLetterId("01NOSUCHDEADLETTER00000000")) == []


def test_a_purge_leaves_its_count_in_the_audit_log(app: jobq.App) -> None:
    make_dead(app, range(3), kind="template")
    make_dead(app, range(2))
    assert app.dlq.purge(search="template", by="carol") == 3
    assert app.dlq.purge(search="nothing matches this", by="carol") == 0
    latest, first = app.dlq.audit_log(limit=2)
    assert (first.action, first.by, first.dead_letter_id) == ("purged", "carol", None)
    assert first.detail == {"filters": {"search": "template"}, "count": 3}
    assert latest.detail["count"] == 0, "an empty purge is on record too"
    assert app.dlq.count() == 2
    assert [entry.id for entry in app.dlq.audit_log(limit=1, cursor=latest.id)] == [first.id]


def test_the_recovery_queue_signs_its_replays(shared_url: str, provider: Provider, clock: ManualClock) -> None:
    recovery = jobq.RecoveryPolicy(cooldown=60, rounds=1)
    with jobq.App(shared_url, dependencies={"provider": provider}, clock=clock, recovery=recovery) as app:

        @app.task(name="flaky", max_attempts=1)
        def flaky(*, provider: Provider) -> None:
            if not provider.fixed:
                raise TimeoutError("the provider did not answer")

        app.enqueue("flaky")
        work(app)
        [letter] = app.dlq.list(resolution="pending_recovery")
        provider.fixed = True
        clock.advance(61)
        work(app)
        assert [(entry.action, entry.by) for entry in app.dlq.audit_trail(letter.id)] == [
            ("replayed", "recovery queue")
        ]
        assert app.dlq.count(resolution="recovered") == 1


def test_started_names_the_redrive_before_its_first_letter(app: jobq.App) -> None:
    make_dead(app, range(2))
    events: list[str] = []
    report = app.dlq.replay_many(
        started=lambda redrive: events.append(f"started {redrive.id} {redrive.state}"),
        progress=lambda result: events.append("letter"),
    )
    assert events == [f"started {report.redrive_id} running", "letter", "letter"]
