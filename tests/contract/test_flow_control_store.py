"""The storage contract of flow control — cancels, pauses, periodic ticks — run against every backend."""

from __future__ import annotations

from jobq.audit import AuditEntry
from jobq.backends.contract import Backend, JobFilter
from jobq.clock import to_datetime
from jobq.job import Cancelled, Released, RetryLater, Succeeded, new_id

from .helpers import NOW, error, new_job


def claim(backend: Backend, *, queue: str = "default", now: float = NOW):  # type: ignore[no-untyped-def]
    return backend.claim(worker="w1", queue=queue, limit=10, lease=30.0, now=now)


def cancel_entry(job_id: str) -> AuditEntry:
    return AuditEntry(new_id(), None, to_datetime(NOW), "cancelled", by="ops", detail={"job_id": job_id})


def status(backend: Backend, job_id: str) -> str:
    job = backend.get_job(job_id)  # type: ignore[arg-type]
    assert job is not None
    return job.status


def test_a_queued_job_is_cancelled_at_once_and_audited(backend: Backend) -> None:
    job = new_job()
    backend.enqueue([job])
    assert backend.cancel_job(job.id, now=NOW, audit=cancel_entry(job.id)) == "cancelled"
    assert status(backend, job.id) == "cancelled"
    assert claim(backend) == []
    [entry] = backend.audit_log(limit=10, cursor=None)
    assert (entry.action, entry.dead_letter_id, entry.by) == ("cancelled", None, "ops")
    assert entry.detail == {"job_id": job.id, "was": "queued"}


def test_a_running_job_is_asked_to_stop_and_its_worker_sees_it(backend: Backend) -> None:
    job, other = new_job(), new_job()
    backend.enqueue([job, other])
    first, second = claim(backend)
    asked = first if first.lease.job_id == job.id else second
    assert backend.cancels_requested([first.lease, second.lease]) == []
    assert backend.cancel_job(job.id, now=NOW) == "stopping"
    assert status(backend, job.id) == "running"  # until its handler stops
    assert backend.cancels_requested([first.lease, second.lease]) == [asked.lease]
    assert backend.record([Cancelled(asked.lease, NOW + 1)]) == [True]
    assert status(backend, job.id) == "cancelled"


def test_cancel_says_finished_or_missing_and_writes_no_audit_then(backend: Backend) -> None:
    job = new_job()
    backend.enqueue([job])
    (claimed,) = claim(backend)
    backend.record([Succeeded(claimed.lease, NOW)])
    assert backend.cancel_job(job.id, now=NOW, audit=cancel_entry(job.id)) == "finished"
    assert backend.cancel_job(new_job().id, now=NOW, audit=cancel_entry("x")) == "missing"
    assert backend.audit_log(limit=10, cursor=None) == []


def test_a_job_asked_to_stop_is_not_queued_again_by_a_retry_or_a_release(backend: Backend) -> None:
    retried, released = new_job(), new_job()
    backend.enqueue([retried, released])
    leases = {job.lease.job_id: job.lease for job in claim(backend)}
    backend.cancel_job(retried.id, now=NOW)
    backend.cancel_job(released.id, now=NOW)
    backend.record([RetryLater(leases[retried.id], error(1), run_at=NOW), Released(leases[released.id])])
    assert (status(backend, retried.id), status(backend, released.id)) == ("cancelled", "cancelled")
    assert claim(backend, now=NOW + 10) == []


def test_cancel_by_filter_cancels_queued_and_asks_running_with_one_audit_entry(backend: Backend) -> None:
    running, queued, other = new_job(task="a"), new_job(task="a"), new_job(task="b")
    backend.enqueue([running])
    claim(backend)
    backend.enqueue([queued, other])
    assert backend.cancel_jobs(JobFilter(task="a"), now=NOW, audit=cancel_entry("")) == (1, 1)
    assert [status(backend, j.id) for j in (running, queued, other)] == ["running", "cancelled", "queued"]
    [entry] = backend.audit_log(limit=10, cursor=None)
    assert entry.detail["cancelled"] == 1 and entry.detail["stopping"] == 1


def test_a_paused_queue_gives_no_job_and_is_not_due_until_resumed(backend: Backend) -> None:
    held, free = new_job(queue="held"), new_job(queue="free")
    backend.enqueue([held, free])
    assert backend.pause_queue("held", now=NOW, by="ops") is True
    assert backend.pause_queue("held", now=NOW + 5, by="other") is False
    [pause] = backend.paused_queues()
    assert (pause.queue, pause.paused_at.timestamp(), pause.paused_by) == ("held", NOW, "ops")
    assert claim(backend, queue="held") == []
    assert backend.next_due(queue="held") is None  # a worker does not look again and again
    assert [job.lease.job_id for job in claim(backend, queue="free")] == [free.id]
    assert backend.resume_queue("held") is True
    assert backend.resume_queue("held") is False
    assert backend.paused_queues() == []
    assert [job.lease.job_id for job in claim(backend, queue="held")] == [held.id]


def test_a_queue_is_known_by_its_jobs_or_its_pause(backend: Backend) -> None:
    backend.enqueue([new_job(queue="sms")])
    assert backend.queue_known("sms") and not backend.queue_known("smss")
    backend.pause_queue("later", now=NOW, by=None)
    assert backend.queue_known("later")


def test_a_tick_is_enqueued_once_and_never_behind_the_latest(backend: Backend) -> None:
    first, again, older = new_job(task="t"), new_job(task="t"), new_job(task="t")
    assert backend.enqueue_ticks([("s", NOW, first)], now=NOW, keep=3600) == [first.id]
    assert backend.enqueue_ticks([("s", NOW, again)], now=NOW, keep=3600) == []  # another worker, same tick
    assert backend.enqueue_ticks([("s", NOW - 60, older)], now=NOW, keep=3600) == []  # a clock stepped back
    assert backend.get_job(again.id) is None and backend.get_job(older.id) is None
    later = new_job(task="t")
    assert backend.enqueue_ticks([("other", NOW - 60, older), ("s", NOW + 60, later)], now=NOW, keep=3600) == [
        older.id,
        later.id,
    ]
    last = backend.last_ticks()
    assert (last["s"].tick, last["s"].job_id, last["s"].status) == (NOW + 60, later.id, "queued")
    assert last["other"].tick == NOW - 60


def test_old_ticks_are_forgotten_but_the_latest_still_fences(backend: Backend) -> None:
    backend.enqueue_ticks([("s", NOW, new_job())], now=NOW, keep=10)
    backend.enqueue_ticks([("s", NOW + 100, new_job())], now=NOW + 100, keep=10)
    assert backend.enqueue_ticks([("s", NOW, new_job())], now=NOW + 100, keep=10) == []
    assert backend.last_ticks()["s"].tick == NOW + 100
