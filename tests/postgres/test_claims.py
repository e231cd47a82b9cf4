"""Claims under concurrency, and claim plans that do not depend on planner statistics."""

from __future__ import annotations

import re
import threading
from typing import Any

from jobq.backends.postgres import PostgresBackend
from jobq.backends.postgres.statements import SQL
from jobq.job import JobId, Succeeded
from tests.contract.helpers import NOW, new_job

JOBS = 3000


def test_concurrent_claimers_on_separate_connections_never_share_a_job(pg: PostgresBackend, postgres_url: str) -> None:
    pg.enqueue([new_job(priority=i % 3) for i in range(JOBS)])
    claimers = [PostgresBackend(postgres_url) for _ in range(6)]
    taken: list[list[JobId]] = [[] for _ in claimers]
    barrier = threading.Barrier(len(claimers))

    def drain(index: int) -> None:
        backend = claimers[index]
        barrier.wait()
        while batch := backend.claim(worker=f"w{index}", queue="default", limit=25, lease=30, now=NOW):
            taken[index].extend(job.lease.job_id for job in batch)
            assert all(backend.record([Succeeded(job.lease, NOW) for job in batch]))

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(len(claimers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for backend in claimers:
        backend.close()
    every = [job_id for ids in taken for job_id in ids]
    assert len(every) == len(set(every)) == JOBS
    assert sum(1 for ids in taken if ids) > 1, "the claimers took turns instead of running side by side"
    assert pg.job_counts(now=NOW)["default"]["succeeded"] == JOBS


# -- plans -------------------------------------------------------------------------------------------


CLAIM_VALUES = {"worker": "w", "queue": "default", "limit": 64, "now": NOW, "lease_ends_in": 30.0}


def claim_plan(conn: Any) -> str:
    rows = conn.execute("EXPLAIN (COSTS OFF) " + SQL["claim"], CLAIM_VALUES).fetchall()
    return "\n".join(row[0] for row in rows)


def fill(conn: Any, rows: int) -> None:
    """Many due jobs in one statement (and no ANALYZE: autovacuum may be off or late)."""
    conn.execute(
        "INSERT INTO jobs (id, task, queue, status, payload, run_at, created_at)"
        " SELECT lpad(n::text, 26, '0'), 't', CASE WHEN mod(n, 2) = 0 THEN 'default' ELSE 'other' END, 'queued',"
        ' \'{"args": [], "kwargs": {}}\', %(now)s::float8 - 1, %(now)s::float8'
        " FROM generate_series(1, %(rows)s::integer) AS n",
        {"now": NOW, "rows": rows},
    )


def uses_the_due_index(plan: str) -> bool:
    return "Index Scan using jobs_due" in plan and "Seq Scan" not in plan and "Sort" not in plan


def test_claim_walks_the_due_index_on_a_large_table_whatever_the_statistics(pg: PostgresBackend) -> None:
    with pg._db.connection() as conn:
        conn.execute("ANALYZE jobs")  # statistics of an empty table...
        fill(conn, 100_000)  # ...that is not empty any more
        assert uses_the_due_index(claim_plan(conn)), claim_plan(conn)
        conn.execute("ANALYZE jobs")
        assert uses_the_due_index(claim_plan(conn)), claim_plan(conn)


def test_claim_is_planned_afresh_so_a_plan_cached_while_empty_cannot_stick(pg: PostgresBackend) -> None:
    positional = iter(range(1, 100))
    names: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names[name] = next(positional)
        return f"${names[name]}"

    statement = re.sub(r"%\((\w+)\)s", number, SQL["claim"])
    values = {"worker": "'w'", "queue": "'default'", "limit": "64", "now": str(NOW), "lease_ends_in": "30.0"}
    types = {"worker": "text", "queue": "text", "limit": "bigint", "now": "float8", "lease_ends_in": "float8"}
    arguments = ", ".join(values[name] for name in names)
    with pg._db.connection() as conn:
        conn.execute("ANALYZE jobs")
        conn.execute(f"PREPARE claim_probe ({', '.join(types[name] for name in names)}) AS {statement}")
        for _ in range(10):  # enough executions for PostgreSQL to settle on a generic plan, if allowed
            conn.execute(f"EXECUTE claim_probe ({arguments})")
        fill(conn, 100_000)
        plan = "\n".join(row[0] for row in conn.execute(f"EXPLAIN (COSTS OFF) EXECUTE claim_probe ({arguments})"))
        conn.execute("DEALLOCATE claim_probe")
    assert uses_the_due_index(plan), plan


def test_a_claim_on_an_empty_table_is_cheap_whatever_its_plan(pg: PostgresBackend) -> None:
    with pg._db.connection() as conn:
        plan = claim_plan(conn)
    assert "jobs" in plan and pg.claim(worker="w", queue="default", limit=10, lease=30, now=NOW) == []
