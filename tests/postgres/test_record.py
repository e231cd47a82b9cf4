"""Recording outcomes: a set-based statement per run of one kind, pipelined in one transaction with the claim,
applied as if one by one."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pytest
from psycopg import pq

from jobq.backends.postgres import PostgresBackend
from jobq.errors import StorageError
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


@pytest.fixture
def single(postgres_url: str) -> Iterator[PostgresBackend]:
    """A backend with one connection, whose messages to the server a test can trace."""
    backend = PostgresBackend(postgres_url, min_connections=1, max_connections=1)
    backend.migrate()
    yield backend
    backend.close()


def test_a_failure_round_records_only_outcomes_whose_lease_holds_and_claims_in_the_same_transaction(
    single: PostgresBackend,
) -> None:
    pg = single
    pg.enqueue([new_job() for _ in range(4)])
    a, b, c, d = pg.claim(worker="w", queue="default", limit=4, lease=30, now=NOW)
    pg.record([Succeeded(d.lease, NOW)])  # d finished elsewhere: its dead letter below is fenced off
    stale_b = Lease(b.lease.job_id, b.lease.token + 1)
    taken_over, dead_d = dead_lettered(c), dead_lettered(d)
    outcomes: list[Outcome] = [
        RetryLater(a.lease, error(1), run_at=NOW),  # due at once: the claim below takes it again
        RetryLater(stale_b, error(1), run_at=NOW),
        taken_over,
        dead_d,
        RetryLater(c.lease, error(1), run_at=NOW),  # c is dead by now: as if applied one by one
    ]
    with round_trips(pg) as trips:
        applied, claimed = pg.record_and_claim(
            outcomes, worker="w2", queues=["default"], limit=4, lease=30, now=NOW, durable=False
        )
    assert applied == [True, False, True, False, False]
    assert [job.lease.job_id for job in claimed] == [a.lease.job_id] and claimed[0].attempts == 2
    assert pg.get_dead(taken_over.dead_letter_id) is not None and pg.get_dead(dead_d.dead_letter_id) is None
    statuses = [getattr(pg.get_job(job.lease.job_id), "status", None) for job in (a, b, c, d)]
    assert statuses == ["running", "running", "dead", "succeeded"]
    assert trips.count == 2  # the dead jobs' rows, then the letters with COMMIT


def test_retries_and_the_claim_after_them_take_one_round_trip(single: PostgresBackend) -> None:
    pg = single
    pg.enqueue([new_job() for _ in range(2)])
    a, b = pg.claim(worker="w", queue="default", limit=2, lease=30, now=NOW)
    outcomes: list[Outcome] = [RetryLater(a.lease, error(1), run_at=NOW + 60), Released(b.lease)]
    with round_trips(pg) as trips:
        applied, claimed = pg.record_and_claim(outcomes, worker="w", queues=["default"], limit=2, lease=30, now=NOW)
    assert applied == [True, True] and [job.lease.job_id for job in claimed] == [b.lease.job_id]
    assert trips.count == 1


def test_looking_first_for_a_job_that_must_run_alone_shares_the_round_trip_of_the_dead_jobs_rows(
    single: PostgresBackend,
) -> None:
    pg = single
    pg.enqueue([new_job() for _ in range(3)])
    a, b = pg.claim(worker="w", queue="default", limit=2, lease=30, now=NOW)
    with round_trips(pg) as trips:
        applied, claimed = pg.record_and_claim(
            [dead_lettered(a), RetryLater(b.lease, error(1), run_at=NOW + 60)],
            worker="w", queues=["default"], limit=2, lease=30, now=NOW, alone=True,
        )  # fmt: skip
    assert applied == [True, True] and len(claimed) == 1 and not claimed[0].alone
    assert trips.count == 2


def test_a_round_that_fails_halfway_leaves_nothing_written(pg: PostgresBackend) -> None:
    pg.enqueue([new_job(), new_job()])
    a, b = pg.claim(worker="w", queue="default", limit=2, lease=30, now=NOW)
    # The letter cannot be sent (text cannot hold NUL), after the job was already marked dead on the server.
    unwritable = replace(dead_lettered(b), fingerprint="f\x00")
    with pytest.raises(StorageError):
        pg.record([RetryLater(a.lease, error(1), run_at=NOW), unwritable])
    statuses = [getattr(pg.get_job(job.lease.job_id), "status", None) for job in (a, b)]
    assert statuses == ["running", "running"]
    assert pg.record([RetryLater(a.lease, error(1), run_at=NOW), dead_lettered(b)]) == [True, True]


@dataclass
class Trips:
    count: int = 0


@contextmanager
def round_trips(pg: PostgresBackend) -> Iterator[Trips]:
    """Counts the times the backend's only connection asks the server for results: each Sync or Flush it sends."""
    trips = Trips()
    with pg._db.connection() as conn:  # the pool's only connection: the calls in the block borrow it again
        pass
    with tempfile.TemporaryFile("w+") as trace:
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield trips
        finally:
            conn.pgconn.untrace()
        trace.seek(0)
        sent = [line.split("\t")[2].split()[0] for line in trace if line.startswith("F\t")]
    # psycopg follows a Sync with a Flush: one request for results, not two.
    trips.count = sum(
        message == "Sync" or (message == "Flush" and sent[i - 1] != "Sync") for i, message in enumerate(sent)
    )
