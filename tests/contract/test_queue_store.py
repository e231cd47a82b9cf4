"""The storage contract of the queue, run against every backend."""

from __future__ import annotations

import time

from jobq.backends.contract import Backend, JobFilter
from jobq.job import Lease, Released, RetryLater, Succeeded

from .helpers import NOW, dead_lettered, error, new_job


def claim(backend: Backend, limit: int = 10, *, now: float = NOW, queue: str = "default", worker: str = "w1"):  # type: ignore[no-untyped-def]
    return backend.claim(worker=worker, queue=queue, limit=limit, lease=30.0, now=now)


def test_enqueued_job_is_stored_queued_with_its_fields(backend: Backend) -> None:
    job = new_job(tenant="acme", key="msg-1", priority=5)
    assert backend.enqueue([job]) == [job.id]
    stored = backend.get_job(job.id)
    assert stored is not None
    assert (stored.status, stored.tenant, stored.key, stored.priority) == ("queued", "acme", "msg-1", 5)
    assert stored.payload == job.payload
    assert stored.attempts == 0 and stored.errors == ()


def test_unique_key_returns_the_pending_job_instead_of_a_duplicate(backend: Backend) -> None:
    first = new_job(unique_key="report-42")
    second = new_job(unique_key="report-42")
    assert backend.enqueue([first]) == [first.id]
    assert backend.enqueue([second]) == [first.id]
    assert backend.get_job(second.id) is None


def test_unique_key_is_free_again_once_the_job_finished(backend: Backend) -> None:
    first = new_job(unique_key="k")
    backend.enqueue([first])
    (claimed,) = claim(backend)
    backend.record([Succeeded(claimed.lease, NOW)])
    second = new_job(unique_key="k")
    assert backend.enqueue([second]) == [second.id]


def test_batched_enqueue_stores_every_job(backend: Backend) -> None:
    jobs = [new_job() for _ in range(250)]
    assert backend.enqueue(jobs) == [job.id for job in jobs]
    assert len(claim(backend, 1000)) == 250


def test_batched_enqueue_keeps_each_jobs_own_options(backend: Backend) -> None:
    jobs = [new_job(tenant="a"), new_job(tenant="a"), new_job(tenant="b", priority=3), new_job(tenant="a", key="k")]
    backend.enqueue(jobs)
    for job in jobs:
        stored = backend.get_job(job.id)
        assert stored is not None
        assert (stored.tenant, stored.priority, stored.key, stored.payload) == (
            job.tenant,
            job.priority,
            job.key,
            job.payload,
        )


def test_claim_takes_due_jobs_by_priority_then_age_and_bumps_attempt_and_token(backend: Backend) -> None:
    low = new_job(priority=0, run_at=NOW - 10)
    high = new_job(priority=9, run_at=NOW - 1)
    later = new_job(run_at=NOW + 60)
    backend.enqueue([low, high, later])
    claimed = claim(backend)
    assert [job.lease.job_id for job in claimed] == [high.id, low.id]
    assert all(job.attempts == 1 and job.lease.token == 1 for job in claimed)
    stored = backend.get_job(high.id)
    assert stored is not None and stored.status == "running" and stored.worker == "w1"


def test_claim_respects_limit_and_queue(backend: Backend) -> None:
    backend.enqueue([new_job(queue="sms") for _ in range(3)] + [new_job(queue="mail")])
    assert len(claim(backend, 2, queue="sms")) == 2
    assert [job.queue for job in claim(backend, 10, queue="mail")] == ["mail"]
    assert len(claim(backend, 10, queue="sms")) == 1
    assert claim(backend, 10, queue="sms") == []


def test_two_claimers_never_get_the_same_job(backend: Backend) -> None:
    backend.enqueue([new_job() for _ in range(20)])
    first = claim(backend, 15, worker="a")
    second = claim(backend, 15, worker="b")
    ids = [job.lease.job_id for job in first + second]
    assert len(ids) == len(set(ids)) == 20


def test_ack_is_fenced_by_the_token(backend: Backend) -> None:
    job = new_job()
    backend.enqueue([job])
    (claimed,) = claim(backend)
    stale = Lease(claimed.lease.job_id, claimed.lease.token - 1)
    assert backend.record([Succeeded(stale, NOW)]) == [False]
    assert backend.record([Succeeded(claimed.lease, NOW)]) == [True]
    assert backend.record([Succeeded(claimed.lease, NOW)]) == [False]
    stored = backend.get_job(job.id)
    assert stored is not None and stored.status == "succeeded" and stored.finished_at is not None


def test_retry_appends_the_error_and_requeues_for_later(backend: Backend) -> None:
    job = new_job()
    backend.enqueue([job])
    (claimed,) = claim(backend)
    assert backend.record([RetryLater(claimed.lease, error(1, "first"), run_at=NOW + 5)]) == [True]
    assert claim(backend) == []
    (again,) = claim(backend, now=NOW + 5)
    assert again.attempts == 2 and again.lease.token == 2
    backend.record([RetryLater(again.lease, error(2, "second"), run_at=NOW + 6)])
    stored = backend.get_job(job.id)
    assert stored is not None and stored.status == "queued"
    assert [(e.attempt, e.message) for e in stored.errors] == [(1, "first"), (2, "second")]


def test_release_returns_the_job_without_charging_an_attempt(backend: Backend) -> None:
    job = new_job()
    backend.enqueue([job])
    (claimed,) = claim(backend)
    assert backend.record([Released(claimed.lease)]) == [True]
    stored = backend.get_job(job.id)
    assert stored is not None and (stored.status, stored.attempts) == ("queued", 0)
    (again,) = claim(backend)
    assert again.lease.token == 2  # a new token: the released lease cannot write any more


def test_dead_lettering_marks_the_job_and_stores_the_letter_together(backend: Backend) -> None:
    job = new_job(tenant="acme", key="k1")
    backend.enqueue([job])
    (claimed,) = claim(backend)
    outcome = dead_lettered(claimed, error_class="user_error")
    assert backend.record([outcome]) == [True]
    stored = backend.get_job(job.id)
    assert stored is not None and stored.status == "dead" and len(stored.errors) == 1
    letter = backend.get_dead(outcome.dead_letter_id)
    assert letter is not None
    assert (letter.job_id, letter.tenant, letter.key, letter.error_class) == (job.id, "acme", "k1", "user_error")
    assert letter.payload == job.payload and letter.attempts == 1 and len(letter.errors) == 1
    assert letter.resolution == "open"


def test_stale_dead_lettering_writes_no_letter(backend: Backend) -> None:
    backend.enqueue([new_job()])
    (claimed,) = claim(backend)
    backend.record([Succeeded(claimed.lease, NOW)])
    outcome = dead_lettered(claimed)
    assert backend.record([outcome]) == [False]
    assert backend.get_dead(outcome.dead_letter_id) is None


def test_extend_renews_held_leases_and_reports_lost_ones(backend: Backend) -> None:
    backend.enqueue([new_job(), new_job()])
    first, second = claim(backend)
    backend.record([Succeeded(second.lease, NOW)])
    lost = backend.extend([first.lease, second.lease], until=NOW + 100)
    assert lost == [second.lease]
    assert backend.expired(now=NOW + 99, limit=10) == []
    assert [e.lease for e in backend.expired(now=NOW + 101, limit=10)] == [first.lease]


def test_rescue_of_an_expired_lease_is_fenced_on_expiry(backend: Backend) -> None:
    backend.enqueue([new_job()])
    (claimed,) = claim(backend)  # lease until NOW + 30
    (expired,) = backend.expired(now=NOW + 31, limit=10)
    assert expired.attempts == 1 and expired.worker == "w1"
    backend.extend([claimed.lease], until=NOW + 60)  # the worker was alive after all
    rescue = RetryLater(claimed.lease, error(1), run_at=NOW + 31, expired_at=NOW + 31)
    assert backend.record([rescue]) == [False]
    assert backend.record([RetryLater(claimed.lease, error(1), run_at=NOW + 61, expired_at=NOW + 61)]) == [True]


def test_next_due_and_counts(backend: Backend) -> None:
    assert backend.next_due(queue="a") is None
    backend.enqueue([new_job(run_at=NOW + 50, queue="a"), new_job(run_at=NOW + 10, queue="b"), new_job(queue="a")])
    assert backend.next_due(queue="a") == NOW
    assert backend.next_due(queue="b") == NOW + 10
    claim(backend, 1, queue="a")
    counts = backend.job_counts(now=NOW)
    assert counts["a"] == {"queued": 0, "scheduled": 1, "running": 1, "succeeded": 0, "dead": 0, "cancelled": 0}
    assert counts["b"]["scheduled"] == 1


def test_list_jobs_filters_and_pages_newest_first(backend: Backend) -> None:
    jobs = [new_job(tenant="acme" if i % 2 else "other") for i in range(7)]
    backend.enqueue(jobs)
    acme = [job.id for job in reversed(jobs) if job.tenant == "acme"]
    first = backend.list_jobs(JobFilter(tenant="acme"), limit=2, cursor=None)
    rest = backend.list_jobs(JobFilter(tenant="acme"), limit=10, cursor=first[-1].id)
    assert [job.id for job in first + rest] == acme


def test_delete_jobs_by_state(backend: Backend) -> None:
    backend.enqueue([new_job(), new_job()])
    (claimed, _) = claim(backend)
    backend.record([Succeeded(claimed.lease, NOW)])
    assert backend.delete_jobs(["succeeded"], finished_before=None) == 1
    assert backend.job_counts(now=NOW)["default"]["succeeded"] == 0


def test_wait_for_change_notices_commits_from_other_connections(shared_url: str) -> None:
    from jobq.backends import open_backend

    watcher, writer = open_backend(shared_url), open_backend(shared_url)
    watcher.migrate()
    watcher.wait_for_change(0)
    assert watcher.wait_for_change(0.05) is False
    writer.enqueue([new_job()])
    started = time.monotonic()
    assert watcher.wait_for_change(2.0) is True
    assert time.monotonic() - started < 0.5
    assert watcher.wait_for_change(0) is False
    watcher.close()
    writer.close()


def test_tally_is_added_with_the_outcomes_and_read_back(backend: Backend) -> None:
    from jobq.tally import COUNTER

    backend.enqueue([new_job()])
    (claimed,) = claim(backend)
    key = ("processed", "default", COUNTER)
    backend.record([Succeeded(claimed.lease, NOW)], tally={key: 1.0, ("job_duration_seconds", "default", 0.5): 1.0})
    backend.record([], tally={key: 2.0})
    assert sorted(backend.read_tally()) == [
        ("job_duration_seconds", "default", 0.5, 1.0),
        ("processed", "default", COUNTER, 3.0),
    ]
