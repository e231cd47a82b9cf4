"""The plain-psycopg baseline: the same kind of table without jobq, one transaction per job or per 100.

One connection in autocommit, statements prepared by psycopg after a few runs (its default), the claim in
the ``FOR UPDATE SKIP LOCKED`` shape every PostgreSQL queue uses. It bounds what jobq can reach: a row per
transaction pays a WAL flush per commit; set-based statements share one among 100 jobs.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bench_tasks import NOOP
from harness import BenchError, Sizes
from places import Place

SCHEMA = """
CREATE TABLE jobs (
    id text COLLATE "C" PRIMARY KEY, task text NOT NULL, queue text NOT NULL, status text NOT NULL,
    priority integer NOT NULL DEFAULT 0, payload jsonb NOT NULL, attempts integer NOT NULL DEFAULT 0,
    token integer NOT NULL DEFAULT 0, run_at float8 NOT NULL, created_at float8 NOT NULL,
    locked_until float8, finished_at float8
);
CREATE INDEX jobs_due ON jobs (queue, priority DESC, run_at) WHERE status = 'queued';
"""
INSERT = (
    "INSERT INTO jobs (id, task, queue, status, payload, run_at, created_at)"
    " VALUES (%s, %s, 'default', 'queued', %s::jsonb, %s, %s)"
)
INSERT_NOTIFY = (
    "WITH new AS (INSERT INTO jobs (id, task, queue, status, payload, run_at, created_at)"
    " VALUES (%s, %s, 'default', 'queued', %s::jsonb, %s, %s) RETURNING queue)"
    " SELECT pg_notify('jobq_bench', queue) FROM new"
)
CLAIM = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, token = token + 1, locked_until = %(until)s
 WHERE id = ANY(ARRAY(SELECT id FROM jobs WHERE status = 'queued' AND queue = 'default' AND run_at <= %(now)s
                      ORDER BY priority DESC, run_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED))
   AND status = 'queued'
RETURNING id, token, task, payload
"""
COMPLETE = (
    "UPDATE jobs SET status = 'succeeded', finished_at = %s, locked_until = NULL"
    " WHERE id = %s AND token = %s AND status = 'running'"
)
COMPLETE_SET = """
UPDATE jobs SET status = 'succeeded', finished_at = %(at)s, locked_until = NULL
  FROM unnest(%(id)s::text[], %(token)s::integer[]) AS done (id, token)
 WHERE jobs.id = done.id AND jobs.token = done.token AND jobs.status = 'running'
"""


def connect(url: str, synchronous_commit: str) -> Any:
    import psycopg

    conn = psycopg.connect(url, autocommit=True)
    conn.execute("SELECT set_config('synchronous_commit', %s, false)", (synchronous_commit,))
    return conn


def insert_one_by_one(conn: Any, n: int, statement: str = INSERT) -> float:
    """n single-INSERT transactions; jobs/s."""
    started = time.perf_counter()
    for i in range(n):
        now = time.time()
        conn.execute(statement, (f"{i:026d}", NOOP, json.dumps({"args": [], "kwargs": {"i": i}}), now, now))
    return n / (time.perf_counter() - started)


def claim_complete_per_transaction(conn: Any, n: int) -> float:
    """Claim one job and complete it, in one transaction per job; jobs/s."""
    done = 0
    started = time.perf_counter()
    while True:
        now = time.time()
        with conn.transaction():
            row = conn.execute(CLAIM, {"until": now + 30, "now": now, "limit": 1}).fetchone()
            if row is None:
                break
            conn.execute(COMPLETE, (time.time(), row[0], row[1]))
        done += 1
    return checked(done, n) / (time.perf_counter() - started)


def claim_complete_set_based(conn: Any, n: int, batch: int) -> float:
    """Claim ``batch`` jobs in one statement, then complete them in another (two transactions); jobs/s."""
    done = 0
    started = time.perf_counter()
    while True:
        now = time.time()
        rows = conn.execute(CLAIM, {"until": now + 30, "now": now, "limit": batch}).fetchall()
        if not rows:
            break
        params = {"at": time.time(), "id": [row[0] for row in rows], "token": [row[1] for row in rows]}
        conn.execute(COMPLETE_SET, params)
        done += len(rows)
    return checked(done, n) / (time.perf_counter() - started)


def checked(done: int, n: int) -> int:
    if done != n:
        raise BenchError(f"baseline completed {done} of {n} jobs")
    return n


def bench_baseline(place: Place, sizes: Sizes) -> dict[str, float]:
    """Per-job transactions with synchronous_commit on and off, INSERT with NOTIFY, set-based of 100 (on)."""
    figures = {}
    for setting, key in (("on", "full"), ("off", "normal")):
        with connect(place.url(f"base_{key}"), setting) as conn:
            conn.execute(SCHEMA)
            figures[f"base_enqueue_{key}"] = insert_one_by_one(conn, sizes.baseline)
            figures[f"base_claim_{key}"] = claim_complete_per_transaction(conn, sizes.baseline)
    with connect(place.url("base_notify"), "on") as conn:
        conn.execute(SCHEMA)
        figures["base_enqueue_notify"] = insert_one_by_one(conn, sizes.baseline, INSERT_NOTIFY)
    with connect(place.url("base_set"), "on") as conn:
        conn.execute(SCHEMA)
        with conn.transaction():
            insert_one_by_one(conn, sizes.baseline_set)
        figures["base_set"] = claim_complete_set_based(conn, sizes.baseline_set, sizes.set_batch)
    return figures
