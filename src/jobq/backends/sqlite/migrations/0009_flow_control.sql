-- Flow control (issue 15): cancelled jobs, paused queues, periodic ticks.
--
-- A job can now be cancelled. SQLite cannot change a CHECK constraint in place, so the jobs table is rebuilt
-- with the new state (SQLite's documented way: a new table, a copy, a rename), and its indexes made again.
CREATE TABLE jobs_new (
    id           TEXT PRIMARY KEY,
    task         TEXT NOT NULL,
    queue        TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'dead', 'cancelled')),
    priority     INTEGER NOT NULL DEFAULT 0,
    payload      TEXT NOT NULL,
    tenant       TEXT,
    key          TEXT,
    unique_key   TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER,
    token        INTEGER NOT NULL DEFAULT 0,
    run_at       REAL NOT NULL,
    created_at   REAL NOT NULL,
    started_at   REAL,
    finished_at  REAL,
    locked_until REAL,
    worker       TEXT,
    errors       TEXT NOT NULL DEFAULT '[]',
    replay_of    TEXT,
    alone        INTEGER NOT NULL DEFAULT 0 CHECK (alone IN (0, 1)),
    -- When an operator asked a running job to stop: its worker sees it within a second and cancels the handler.
    cancel_requested REAL
) STRICT;
INSERT INTO jobs_new (id, task, queue, status, priority, payload, tenant, key, unique_key, attempts, max_attempts,
                      token, run_at, created_at, started_at, finished_at, locked_until, worker, errors, replay_of,
                      alone)
SELECT id, task, queue, status, priority, payload, tenant, key, unique_key, attempts, max_attempts,
       token, run_at, created_at, started_at, finished_at, locked_until, worker, errors, replay_of, alone
  FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_due ON jobs (queue, priority DESC, run_at) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs (locked_until) WHERE status = 'running';
CREATE UNIQUE INDEX jobs_unique_pending ON jobs (unique_key) WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');
CREATE INDEX jobs_due_alone ON jobs (queue, priority DESC, run_at) WHERE status = 'queued' AND alone;

-- A paused queue has a row here; every claim looks it up by primary key (one probe, an empty table when
-- nothing is paused), so a pause holds for every worker from its next claim on.
CREATE TABLE queue_pauses (
    queue     TEXT PRIMARY KEY,
    paused_at REAL NOT NULL,
    paused_by TEXT
) STRICT;

-- One row per periodic schedule and tick, inserted in the transaction that enqueues the tick's job: the primary
-- key, not a leader, makes a tick run once however many workers see it come due.
CREATE TABLE periodic_ticks (
    schedule    TEXT NOT NULL,
    tick        REAL NOT NULL,
    job_id      TEXT NOT NULL,
    enqueued_at REAL NOT NULL,
    PRIMARY KEY (schedule, tick)
) STRICT, WITHOUT ROWID;
