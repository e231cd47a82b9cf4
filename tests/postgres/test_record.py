"""Recording outcomes: set-based acks and pipelined retries in one transaction, applied as if one by one."""

from __future__ import annotations

from jobq.backends.postgres import PostgresBackend
from jobq.job import Lease, Outcome, Released, RetryLater, Succeeded
from tests.contract.helpers import NOW, dead_lettered, error, new_job


def test_a_mixed_batch_reports_each_outcome_in_order(pg: PostgresBackend) -> None:
    pg.enqueue([new_job() for _ in range(5)])
    a, b, c, d, e = pg.claim(worker="w", queue="default", limit=5, lease=30, now=NOW)
    stale = Lease(c.lease.job_id, c.lease.token + 7)
    outcomes: list[Outcome] = [
        Succeeded(a.lease, NOW),
        Succeeded(stale, NOW),
        RetryLater(b.lease, error(1), run_at=NOW + 5),
        Succeeded(c.lease, NOW),
        dead_lettered(d),
        Released(e.lease),
        Succeeded(a.lease, NOW),  # the same lease again: already applied above
    ]
    assert pg.record(outcomes) == [True, False, True, True, True, True, False]
    statuses = [getattr(pg.get_job(job.lease.job_id), "status", None) for job in (a, b, c, d, e)]
    assert statuses == ["succeeded", "queued", "succeeded", "dead", "queued"]


def test_an_error_with_nul_characters_is_still_recorded(pg: PostgresBackend) -> None:
    job = new_job()
    pg.enqueue([job])
    (claimed,) = pg.claim(worker="w", queue="default", limit=1, lease=30, now=NOW)
    assert pg.record([RetryLater(claimed.lease, error(1, "bad byte \x00 here"), run_at=NOW)]) == [True]
    stored = pg.get_job(job.id)
    assert stored is not None and stored.errors[0].message == "bad byte \ufffd here"
