-- The queue and the dead-letter queue on PostgreSQL.
--
-- Times are unix seconds in double precision, as the storage contract speaks them: values round-trip
-- exactly (a timestamptz keeps microseconds only) and the SQLite schema reads the same. Read them with
-- to_timestamp(run_at). Ids are ULIDs compared byte by byte (COLLATE "C"): that order is creation order.
-- Payloads and error histories are JSONB.

CREATE TABLE jobs (
    id           text COLLATE "C" PRIMARY KEY,
    task         text NOT NULL,
    queue        text NOT NULL,
    status       text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'dead')),
    priority     integer NOT NULL DEFAULT 0,
    payload      jsonb NOT NULL,
    tenant       text,
    key          text,
    unique_key   text,
    attempts     integer NOT NULL DEFAULT 0,
    max_attempts integer,  -- NULL: the task's own setting, read by the worker
    -- Fencing token: bumped by every claim; every later write about the job must present it.
    token        integer NOT NULL DEFAULT 0,
    run_at       double precision NOT NULL,
    created_at   double precision NOT NULL,
    started_at   double precision,
    finished_at  double precision,
    -- On the database clock (statement_timestamp()), whatever the workers' clocks say: see backend.py.
    locked_until double precision,
    worker       text,
    errors       jsonb NOT NULL DEFAULT '[]',
    replay_of    text COLLATE "C"
);

-- Claims walk this partial index in order and stop after LIMIT rows: no sort, whatever the queue's size
-- and whatever the planner statistics say (autovacuum may be off, or behind a burst of enqueues).
CREATE INDEX jobs_due ON jobs (queue, priority DESC, run_at) WHERE status = 'queued';
CREATE INDEX jobs_leases ON jobs (locked_until) WHERE status = 'running';
-- One pending job per unique key: a duplicate enqueue finds the existing one.
CREATE UNIQUE INDEX jobs_unique_pending ON jobs (unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');

CREATE TABLE dead_letters (
    id              text COLLATE "C" PRIMARY KEY,
    job_id          text COLLATE "C" NOT NULL,
    task            text NOT NULL,
    queue           text NOT NULL,
    priority        integer NOT NULL DEFAULT 0,
    tenant          text,
    key             text,
    payload         jsonb NOT NULL,
    attempts        integer NOT NULL,
    max_attempts    integer NOT NULL,
    errors          jsonb NOT NULL,
    error_type      text NOT NULL,
    error_message   text NOT NULL,
    error_traceback text NOT NULL,
    error_class     text NOT NULL CHECK (error_class IN ('recoverable', 'user_error', 'system_error', 'unknown')),
    fingerprint     text NOT NULL,
    failed_at       double precision NOT NULL,
    created_at      double precision,
    resolution      text NOT NULL DEFAULT 'open'
                    CHECK (resolution IN ('open', 'pending_recovery', 'replayed', 'recovered', 'abandoned')),
    replayed_at     double precision,
    replayed_as     text COLLATE "C",
    note            text
);

-- Lists are newest first by id (ids sort by failure time); filtered lists walk these backwards.
CREATE INDEX dead_by_task ON dead_letters (task, id);
CREATE INDEX dead_by_tenant ON dead_letters (tenant, id);
CREATE INDEX dead_by_queue ON dead_letters (queue, id);
CREATE INDEX dead_by_fingerprint ON dead_letters (fingerprint, id);
CREATE INDEX dead_by_class ON dead_letters (error_class, id);
CREATE INDEX dead_by_resolution ON dead_letters (resolution, id);
CREATE INDEX dead_by_failed_at ON dead_letters (failed_at);
CREATE INDEX dead_by_job ON dead_letters (job_id);
-- Triage looks at open letters, a small and hot part of a DLQ that keeps its history: replayed and
-- abandoned letters pile up, these indexes stay the size of what still needs a decision.
CREATE INDEX dead_open_by_fingerprint ON dead_letters (fingerprint, id) WHERE resolution = 'open';
CREATE INDEX dead_open_by_task ON dead_letters (task, id) WHERE resolution = 'open';
CREATE INDEX dead_open_by_tenant ON dead_letters (tenant, id) WHERE resolution = 'open';
-- The recovery queue: letters waiting for their automatic replay, oldest first.
CREATE INDEX dead_pending_recovery ON dead_letters (failed_at) WHERE resolution = 'pending_recovery';
