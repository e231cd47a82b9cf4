"""The storage contract of tracked redrives and the dead letters' audit trail, run against every backend."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from jobq.audit import AuditEntry
from jobq.backends.contract import Backend, JobFilter
from jobq.clock import to_datetime
from jobq.errors import AlreadyReplayed, JobqError, RedriveStopped
from jobq.job import DeadLetter, DeadLetterId, NewJob, Succeeded, new_id
from jobq.redrive import Redrive, RedriveId, RedriveOutcome

from .helpers import NOW, dead_lettered, new_job


def dead_letter(backend: Backend, *, fingerprint: str = "f1", queue: str = "default") -> DeadLetter:
    """Enqueue, claim and dead-letter one job; returns its letter."""
    job = new_job(queue=queue)
    backend.enqueue([job])
    (claimed,) = backend.claim(worker="w", queue=queue, limit=1, lease=30, now=NOW)
    outcome = dead_lettered(claimed, fingerprint=fingerprint)
    assert backend.record([outcome]) == [True]
    letter = backend.get_dead(outcome.dead_letter_id)
    assert letter is not None
    return letter


def redrive(backend: Backend, **fields: Any) -> Redrive:
    """Record a running redrive owned by ``run-1``; returns it."""
    values: dict[str, Any] = {
        "id": RedriveId(new_id()), "state": "running", "filters": {"task": "tasks.send", "unresolved": True},
        "matched": 3, "created_at": to_datetime(NOW), "updated_at": to_datetime(NOW), "owner": "run-1",
        "started_by": "ops", "rate": 5.0,
    }  # fmt: skip
    values.update(fields)
    started = Redrive(**values)
    backend.start_redrive(started)
    return started


def replay_job(letter: DeadLetter, **overrides: Any) -> NewJob:
    """The job a replay of ``letter`` makes."""
    return new_job(task=letter.task, queue=letter.queue, payload=letter.payload, replay_of=letter.id, **overrides)


def audit(letter: DeadLetter, action: str = "replayed", **detail: Any) -> AuditEntry:
    """An audit entry about ``letter``."""
    return AuditEntry(new_id(), letter.id, to_datetime(NOW), action, by="alice", detail=detail)  # type: ignore[arg-type]


def stored(backend: Backend, redrive_id: str) -> Redrive:
    found = backend.get_redrive(RedriveId(redrive_id))
    assert found is not None
    return found


def test_a_redrive_reads_back_as_recorded_and_lists_newest_first_with_cursor_pages(backend: Backend) -> None:
    first = redrive(backend)
    second = redrive(backend, force=True, rate=None, filters={"fingerprint": "f2", "since": NOW - 60.5})
    assert stored(backend, first.id) == first
    assert stored(backend, second.id) == second
    assert backend.get_redrive(RedriveId("nope")) is None
    assert backend.list_redrives(limit=1, cursor=None) == [second]
    assert backend.list_redrives(limit=10, cursor=second.id) == [first]


def test_a_replay_in_a_redrive_counts_its_progress_and_moves_the_cursor(backend: Backend) -> None:
    letters = [dead_letter(backend) for _ in range(3)]
    started = redrive(backend)
    job = replay_job(letters[2], created_at=NOW + 5)
    assert backend.replay(letters[2].id, job, force=False, redrive_id=started.id, redrive_owner="run-1") == job.id
    assert backend.skip_in_redrive(started.id, owner="run-1", cursor=letters[1].id, now=NOW + 6) is True
    progress = stored(backend, started.id)
    assert (progress.replayed, progress.skipped, progress.cursor) == (1, 1, letters[1].id)
    assert progress.updated_at == to_datetime(NOW + 6) and progress.created_at == to_datetime(NOW)


def test_a_redrive_replays_a_letter_once_even_forced(backend: Backend) -> None:
    letter = dead_letter(backend)
    started = redrive(backend, force=True)
    backend.replay(letter.id, replay_job(letter), force=True, redrive_id=started.id, redrive_owner="run-1")
    with pytest.raises(AlreadyReplayed):
        backend.replay(letter.id, replay_job(letter), force=True, redrive_id=started.id, redrive_owner="run-1")
    assert stored(backend, started.id).replayed == 1
    other = redrive(backend, force=True)
    assert (
        backend.replay(letter.id, job := replay_job(letter), force=True, redrive_id=other.id, redrive_owner="run-1")
        == job.id
    )


def test_a_replay_for_a_redrive_cancelled_or_taken_over_is_refused_whole(backend: Backend) -> None:
    letter = dead_letter(backend)
    started = redrive(backend)
    job = replay_job(letter)
    with pytest.raises(RedriveStopped):
        backend.replay(letter.id, job, force=False, audit=audit(letter), redrive_id=started.id, redrive_owner="run-2")
    assert backend.stop_redrive(started.id, state="cancelled", owner=None, now=NOW) is True
    with pytest.raises(RedriveStopped):
        backend.replay(letter.id, job, force=False, audit=audit(letter), redrive_id=started.id, redrive_owner="run-1")
    still = backend.get_dead(letter.id)
    assert still is not None and still.resolution == "open" and still.replayed_as is None
    assert backend.get_job(job.id) is None and backend.audit_trail(letter.id) == []
    assert stored(backend, started.id).replayed == 0


def test_skipping_and_finishing_need_the_owner_of_a_running_redrive(backend: Backend) -> None:
    letter = dead_letter(backend)
    started = redrive(backend)
    assert backend.skip_in_redrive(started.id, owner="run-2", cursor=letter.id, now=NOW) is False
    assert backend.stop_redrive(started.id, state="finished", owner="run-2", now=NOW) is False
    assert backend.stop_redrive(started.id, state="cancelled", owner=None, now=NOW + 1) is True  # anyone cancels
    assert backend.skip_in_redrive(started.id, owner="run-1", cursor=letter.id, now=NOW) is False
    assert backend.stop_redrive(started.id, state="cancelled", owner=None, now=NOW) is False
    cancelled = stored(backend, started.id)
    assert (cancelled.state, cancelled.skipped, cancelled.cursor) == ("cancelled", 0, None)


def test_a_take_over_hands_an_unfinished_redrive_to_a_new_owner(backend: Backend) -> None:
    crashed = redrive(backend)  # still 'running': its process died without a word
    taken = backend.take_redrive(crashed.id, owner="run-2", now=NOW + 60)
    assert taken is not None and (taken.state, taken.owner) == ("running", "run-2")
    assert taken == replace(crashed, owner="run-2", updated_at=to_datetime(NOW + 60))

    cancelled = redrive(backend)
    backend.stop_redrive(cancelled.id, state="cancelled", owner=None, now=NOW)
    resumed = backend.take_redrive(cancelled.id, owner="run-3", now=NOW)
    assert resumed is not None and (resumed.state, resumed.owner) == ("running", "run-3")

    assert backend.stop_redrive(cancelled.id, state="finished", owner="run-3", now=NOW) is True
    assert backend.take_redrive(cancelled.id, owner="run-4", now=NOW) is None
    assert backend.take_redrive(RedriveId("nope"), owner="run-4", now=NOW) is None


def test_the_outcome_counts_the_jobs_made_by_fingerprint_and_how_they_ended(backend: Backend) -> None:
    made = {}
    for name, fingerprint in [("ok", "fa"), ("cleared", "fa"), ("again", "fa"), ("waiting", "fb"), ("later", "fb")]:
        letter = dead_letter(backend, fingerprint=fingerprint, queue=name)
        made[name] = replay_job(letter)
    started = redrive(backend)
    for job in made.values():
        assert job.replay_of is not None
        backend.replay(job.replay_of, job, force=False, redrive_id=started.id, redrive_owner="run-1")
    backend.replay(dead_letter(backend, fingerprint="fa").id, new_job(), force=False)  # by hand: not this redrive's

    def claim(queue: str) -> Any:
        (claimed,) = backend.claim(worker="w", queue=queue, limit=1, lease=30, now=NOW)
        return claimed

    backend.record([Succeeded(claim("cleared").lease, NOW)])
    assert backend.delete_jobs(["succeeded"], finished_before=None) == 1  # its job is gone: unknown
    backend.record([Succeeded(claim("ok").lease, NOW)])
    backend.record([dead_lettered(claim("again"), fingerprint="f-new")])
    claim("later")  # running

    assert backend.redrive_outcome(started.id) == [
        RedriveOutcome("fa", replayed=3, succeeded=1, died_again=1, unknown=1, died_with={"f-new": 1}),
        RedriveOutcome("fb", replayed=2, pending=2),
    ]
    assert backend.redrive_outcome(redrive(backend).id) == []


def test_audit_entries_are_written_with_the_change_and_read_oldest_first(backend: Backend) -> None:
    letter = dead_letter(backend)
    job = replay_job(letter)
    replayed = audit(letter, job_id=job.id, original_payload=letter.payload, payload={"args": [1], "kwargs": {}})
    backend.replay(letter.id, job, force=False, audit=replayed)
    forced = audit(letter, job_id="j2", force=True)
    backend.replay(letter.id, replay_job(letter), force=True, audit=forced)
    assert backend.audit_trail(letter.id) == [replayed, forced]
    assert backend.audit_trail(DeadLetterId("nope")) == []


def test_a_refused_replay_or_abandon_writes_no_audit_entry(backend: Backend) -> None:
    letter = dead_letter(backend)
    backend.replay(letter.id, replay_job(letter), force=False)
    with pytest.raises(AlreadyReplayed):
        backend.replay(letter.id, replay_job(letter), force=False, audit=audit(letter))
    assert backend.abandon(letter.id, note="late", audit=audit(letter, "abandoned")) is False
    assert backend.audit_trail(letter.id) == []

    other = dead_letter(backend)
    abandoned = audit(other, "abandoned", note="customer left")
    assert backend.abandon(other.id, note="customer left", audit=abandoned) is True
    assert backend.audit_trail(other.id) == [abandoned]


def test_an_audit_entry_that_cannot_be_written_undoes_the_replay_and_its_progress(backend: Backend) -> None:
    letter = dead_letter(backend)
    taken = audit(dead_letter(backend))
    assert taken.dead_letter_id is not None
    backend.abandon(taken.dead_letter_id, note=None, audit=taken)
    started = redrive(backend)
    job = replay_job(letter)
    clash = replace(taken, dead_letter_id=letter.id)
    with pytest.raises(JobqError):  # the same audit id twice: the insert fails inside the replay's transaction
        backend.replay(letter.id, job, force=False, audit=clash, redrive_id=started.id, redrive_owner="run-1")
    after = backend.get_dead(letter.id)
    assert after is not None and (after.resolution, after.replayed_as) == ("open", None)
    assert backend.get_job(job.id) is None
    assert backend.list_jobs(JobFilter(status="queued"), limit=10, cursor=None) == []
    assert stored(backend, started.id).replayed == 0
    assert ("replayed", "default", -2.0, 1.0) not in backend.read_tally()

    with pytest.raises(JobqError):
        backend.abandon(letter.id, note="x", audit=clash)
    still = backend.get_dead(letter.id)
    assert still is not None and (still.resolution, still.note) == ("open", None)
