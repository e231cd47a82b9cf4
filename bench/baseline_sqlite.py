"""The plain-sqlite3 baseline: what the same table does without jobq, one transaction per job or per 100."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from bench_tasks import NOOP
from harness import BenchError, Sizes
from places import Place

SCHEMA = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY, task TEXT NOT NULL, queue TEXT NOT NULL, status TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0, payload TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    token INTEGER NOT NULL DEFAULT 0, run_at REAL NOT NULL, created_at REAL NOT NULL,
    locked_until REAL, finished_at REAL
) STRICT;
CREATE INDEX jobs_due ON jobs (priority DESC, run_at, id) WHERE status = 'queued';
"""
INSERT = (
    "INSERT INTO jobs (id, task, queue, status, payload, run_at, created_at)"
    " VALUES (?, ?, 'default', 'queued', ?, ?, ?)"
)
CLAIM = """
UPDATE jobs SET status = 'running', attempts = attempts + 1, token = token + 1, locked_until = :until
 WHERE id IN (SELECT id FROM jobs WHERE status = 'queued' AND run_at <= :now
              ORDER BY priority DESC, run_at, id LIMIT :limit)
RETURNING id, token, task, payload
"""
COMPLETE = (
    "UPDATE jobs SET status = 'succeeded', finished_at = ?, locked_until = NULL"
    " WHERE id = ? AND token = ? AND status = 'running'"
)
COMPLETE_SET = """
UPDATE jobs SET status = 'succeeded', finished_at = :at, locked_until = NULL
  FROM (SELECT value ->> 0 AS id, value ->> 1 AS token FROM json_each(:done)) AS done
 WHERE jobs.id = done.id AND jobs.token = done.token AND jobs.status = 'running'
"""


def connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.executescript(SCHEMA)
    return conn


def insert_one_by_one(conn: sqlite3.Connection, n: int) -> float:
    """n single-INSERT transactions; jobs/s."""
    started = time.perf_counter()
    for i in range(n):
        now = time.time()
        conn.execute(INSERT, (f"{i:026d}", NOOP, json.dumps({"args": [], "kwargs": {"i": i}}), now, now))
    return n / (time.perf_counter() - started)


def claim_complete_per_transaction(conn: sqlite3.Connection, n: int) -> float:
    """Claim one job and complete it, in one transaction per job; jobs/s."""
    done = 0
    started = time.perf_counter()
    while True:
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(CLAIM, {"until": now + 30, "now": now, "limit": 1}).fetchone()
        if row is None:
            conn.execute("COMMIT")
            break
        json.loads(row[3])
        conn.execute(COMPLETE, (time.time(), row[0], row[1]))
        conn.execute("COMMIT")
        done += 1
    return checked(done, n) / (time.perf_counter() - started)


def claim_complete_set_based(conn: sqlite3.Connection, n: int, batch: int) -> float:
    """Claim ``batch`` jobs in one statement, then complete them in another (two transactions); jobs/s."""
    done = 0
    started = time.perf_counter()
    while True:
        now = time.time()
        rows = conn.execute(CLAIM, {"until": now + 30, "now": now, "limit": batch}).fetchall()
        if not rows:
            break
        for row in rows:
            json.loads(row[3])
        conn.execute(COMPLETE_SET, {"at": time.time(), "done": json.dumps([[row[0], row[1]] for row in rows])})
        done += len(rows)
    return checked(done, n) / (time.perf_counter() - started)


def checked(done: int, n: int) -> int:
    if done != n:
        raise BenchError(f"baseline completed {done} of {n} jobs")
    return n


def bench_baseline(place: Place, sizes: Sizes) -> dict[str, float]:
    """Per-job transactions with synchronous=FULL and NORMAL, and set-based ones of ``set_batch`` (FULL)."""
    directory = place.directory
    figures = {}
    for synchronous in ("FULL", "NORMAL"):
        key = synchronous.lower()
        conn = connect(directory / f"baseline-{key}.db", synchronous)
        figures[f"base_enqueue_{key}"] = insert_one_by_one(conn, sizes.baseline)
        figures[f"base_claim_{key}"] = claim_complete_per_transaction(conn, sizes.baseline)
        conn.close()
    conn = connect(directory / "baseline-set.db", "FULL")
    conn.execute("BEGIN")
    insert_one_by_one(conn, sizes.baseline_set)
    conn.execute("COMMIT")
    figures["base_set"] = claim_complete_set_based(conn, sizes.baseline_set, sizes.set_batch)
    conn.close()
    return figures
