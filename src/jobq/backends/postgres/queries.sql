-- The PostgreSQL backend's hot path: enqueue, claim, record, leases. Values are always bound parameters.
--
-- Lease instants (locked_until) are on the database clock: extract(epoch FROM statement_timestamp()) plus
-- a caller's offset from its own present (``*_in`` parameters, see backend.py). {jobs} is the schema-
-- qualified table, for statements that also run on a caller's own connection (transactional enqueue).

-- name: insert_job
-- One job: plain VALUES plan faster than unnest() when there is a single row.
WITH new AS (
    INSERT INTO {jobs} (id, task, queue, status, priority, payload, tenant, key, unique_key, max_attempts,
                        run_at, created_at, replay_of)
    VALUES (%(id)s, %(task)s, %(queue)s, 'queued', %(priority)s, %(payload)s::json, %(tenant)s, %(key)s,
            %(unique_key)s, %(max_attempts)s, %(run_at)s, %(created_at)s, %(replay_of)s)
    ON CONFLICT DO NOTHING
    RETURNING queue
)
SELECT queue, pg_notify(%(channel)s, queue) FROM new;

-- name: insert_jobs
-- Many jobs in one statement: the rows travel as one JSON document (one parameter, parsed by the server
-- in C), which beats a dozen array parameters that the driver would escape element by element.
WITH new AS (
    INSERT INTO {jobs} (id, task, queue, status, priority, payload, tenant, key, unique_key, max_attempts,
                        run_at, created_at, replay_of)
    SELECT id, task, queue, 'queued', priority, payload::json, tenant, key, unique_key, max_attempts,
           run_at, created_at, replay_of
      FROM json_to_recordset(%(jobs)s::json)
           AS new (id text, task text, queue text, priority integer, payload text, tenant text, key text,
                   unique_key text, max_attempts integer, run_at float8, created_at float8, replay_of text)
    ON CONFLICT DO NOTHING
    RETURNING queue
)
-- One NOTIFY per queue, in the enqueuing transaction: listeners hear of it when (and only if) it commits.
SELECT queue, pg_notify(%(channel)s, queue) FROM new GROUP BY queue;

-- name: insert_batch
-- A batch of one task's calls: what they share is bound once; ids and payloads travel as one JSON array of
-- [id, payload] pairs. ``->`` on json (not jsonb) returns an element's text as sent, so payloads stay faithful.
WITH new AS (
    INSERT INTO {jobs} (id, task, queue, status, priority, payload, tenant, key, max_attempts, run_at,
                        created_at, replay_of)
    SELECT row ->> 0, %(task)s, %(queue)s, 'queued', %(priority)s, row -> 1, %(tenant)s, %(key)s,
           %(max_attempts)s, %(run_at)s, %(created_at)s, %(replay_of)s
      FROM json_array_elements(%(rows)s::json) AS row
    ON CONFLICT DO NOTHING
    RETURNING queue
)
SELECT queue, pg_notify(%(channel)s, queue) FROM new GROUP BY queue;

-- name: copy_jobs
-- The bulk path (no unique keys): COPY is several times faster than any INSERT.
COPY {jobs} (id, task, queue, status, priority, payload, tenant, key, unique_key, max_attempts, run_at,
             created_at, replay_of)
FROM STDIN;

-- name: pending_with_unique_key
SELECT id FROM {jobs} WHERE unique_key = %(unique_key)s AND status IN ('queued', 'running');

-- name: notify
SELECT pg_notify(%(channel)s, queue) FROM unnest(%(queues)s::text[]) AS queue;

-- name: claim
-- A job that must run alone (its last attempt was lost with its worker) is claimed by claim_alone only.
-- A paused queue (queue_pauses) gives nothing: the NOT EXISTS does not depend on the row, so it is a one-time
-- filter (an InitPlan: one primary-key probe per claim, of an empty table when nothing is paused).
-- The inner SELECT locks due rows in index order and skips rows other claimers hold; ARRAY() makes it an
-- InitPlan, so the outer UPDATE is a primary-key look-up whatever the planner believes about the table.
UPDATE jobs
   SET status = 'running', attempts = attempts + 1, token = token + 1,
       locked_until = extract(epoch FROM statement_timestamp())::float8 + %(lease_ends_in)s,
       worker = %(worker)s, started_at = %(now)s
 WHERE id = ANY(ARRAY(
           SELECT id FROM jobs
            WHERE status = 'queued' AND queue = %(queue)s AND run_at <= (SELECT %(now)s::float8) AND NOT alone
              AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = %(queue)s)
            ORDER BY priority DESC, run_at
            LIMIT %(limit)s
              FOR UPDATE SKIP LOCKED))
-- No outer status test: the inner SELECT holds the rows locked, and an outer one made the planner AND a
-- bitmap of the whole jobs_due index into every claim (a scan of every queued row).
-- "(SELECT now)" hides the value from the planner: compared with a constant past its statistics' range, it
-- walks the index for the actual newest run_at, over every entry earlier claims left dead (four times the
-- claim's own cost in a long drain). The index scan still uses it.
RETURNING id, token, task, queue, payload, attempts, max_attempts, tenant, key, created_at, run_at, priority, alone;

-- name: claim_alone
-- One job that must run alone, for a worker that runs nothing else.
UPDATE jobs
   SET status = 'running', attempts = attempts + 1, token = token + 1,
       locked_until = extract(epoch FROM statement_timestamp())::float8 + %(lease_ends_in)s,
       worker = %(worker)s, started_at = %(now)s
 WHERE id = ANY(ARRAY(
           SELECT id FROM jobs
            WHERE status = 'queued' AND queue = %(queue)s AND run_at <= (SELECT %(now)s::float8) AND alone
              AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = %(queue)s)
            ORDER BY priority DESC, run_at
            LIMIT 1
              FOR UPDATE SKIP LOCKED))
RETURNING id, token, task, queue, payload, attempts, max_attempts, tenant, key, created_at, run_at, priority, alone;

-- name: alone_due
SELECT 1 FROM jobs WHERE status = 'queued' AND queue = ANY(%(queues)s) AND run_at <= (SELECT %(now)s::float8) AND alone
   AND NOT EXISTS (SELECT 1 FROM queue_pauses AS p WHERE p.queue = jobs.queue)
 LIMIT 1;

-- name: ack
-- Replays that succeeded heal dead letters of the recovery queue in the same statement (only a letter's
-- latest replay counts); other letters stay 'replayed', their outcome readable on the job they became.
WITH acked AS (
    UPDATE jobs
       SET status = 'succeeded', finished_at = done.at, locked_until = NULL, result = done.result
      FROM unnest(%(id)s::text[], %(token)s::integer[], %(at)s::float8[], %(result)s::text[])
           AS done (id, token, at, result)
     WHERE jobs.id = done.id AND jobs.token = done.token AND jobs.status = 'running'
    RETURNING jobs.id, jobs.token, jobs.replay_of
), healed AS (
    UPDATE dead_letters AS d SET resolution = 'recovered'
      FROM acked
     WHERE d.id = acked.replay_of AND d.replayed_as = acked.id AND d.resolution = 'replayed'
       AND d.recovery_round IS NOT NULL
)
SELECT id, token FROM acked;

-- name: retry
-- Outcomes of one kind in one statement, each fenced by its lease (and, for a rescued job, by its lease having
-- expired). Their values travel as one JSON document, as insert_jobs' rows do: an error's traceback in a text[]
-- would be escaped character by character by the driver. pg_notify per row queued again: PostgreSQL sends one
-- per queue, at commit (it folds identical notifications of a transaction). A job an operator cancelled while
-- it ran is not queued again, however its attempt ended.
UPDATE jobs
   SET status = CASE WHEN cancel_requested IS NULL THEN 'queued' ELSE 'cancelled' END,
       finished_at = cancel_requested, run_at = r.run_at, errors = jobs.errors || jsonb_build_array(r.error),
       locked_until = NULL, worker = NULL,
       alone = r.expired_in IS NOT NULL  -- lost with its worker: its next attempt runs alone
  FROM json_to_recordset(%(outcomes)s::json) AS r (id text, token integer, run_at float8, error jsonb, expired_in float8)
 WHERE jobs.id = r.id AND jobs.token = r.token AND jobs.status = 'running'
   AND (r.expired_in IS NULL OR jobs.locked_until < extract(epoch FROM statement_timestamp())::float8 + r.expired_in)
RETURNING jobs.id, jobs.token, CASE WHEN jobs.status = 'queued' THEN pg_notify(%(channel)s, jobs.queue) END;

-- name: release
UPDATE jobs SET status = CASE WHEN cancel_requested IS NULL THEN 'queued' ELSE 'cancelled' END,
       finished_at = cancel_requested, attempts = attempts - 1, locked_until = NULL, worker = NULL
  FROM json_to_recordset(%(outcomes)s::json) AS held (id text, token integer)
 WHERE jobs.id = held.id AND jobs.token = held.token AND jobs.status = 'running'
RETURNING jobs.id, jobs.token, CASE WHEN jobs.status = 'queued' THEN pg_notify(%(channel)s, jobs.queue) END;

-- name: cancel_running
-- The handler of a job an operator cancelled stopped: kept as cancelled, its attempt not charged as a failure.
UPDATE jobs SET status = 'cancelled', finished_at = c.at, locked_until = NULL
  FROM json_to_recordset(%(outcomes)s::json) AS c (id text, token integer, at float8)
 WHERE jobs.id = c.id AND jobs.token = c.token AND jobs.status = 'running'
RETURNING jobs.id, jobs.token;

-- name: dead_letter
-- The jobs turn dead; their letters are written next, in the same transaction, from these rows
-- (store/dead_lettering.py). prior_round: the recovery round of the letter a job replayed, from which the
-- domain plans the new letter's round. errors: the history with this attempt's error appended.
UPDATE jobs
   SET status = 'dead', finished_at = d.at, errors = jobs.errors || jsonb_build_array(d.error), locked_until = NULL
  FROM json_to_recordset(%(outcomes)s::json) AS d (id text, token integer, at float8, error jsonb, expired_in float8)
 WHERE jobs.id = d.id AND jobs.token = d.token AND jobs.status = 'running'
   AND (d.expired_in IS NULL OR jobs.locked_until < extract(epoch FROM statement_timestamp())::float8 + d.expired_in)
RETURNING jobs.id, jobs.token, task, queue, priority, tenant, key, payload, attempts, jobs.errors::text AS errors,
          created_at, replay_of,
          (SELECT recovery_round FROM dead_letters WHERE dead_letters.id = jobs.replay_of) AS prior_round;

-- name: extend_leases
UPDATE jobs SET locked_until = extract(epoch FROM statement_timestamp())::float8 + %(ends_in)s
  FROM unnest(%(id)s::text[], %(token)s::integer[]) AS held (id, token)
 WHERE jobs.id = held.id AND jobs.token = held.token AND jobs.status = 'running'
RETURNING jobs.id, jobs.token;

-- name: expired_leases
SELECT id, token, task, queue, attempts, max_attempts, worker, started_at
  FROM jobs
 WHERE status = 'running' AND locked_until < extract(epoch FROM statement_timestamp())::float8 + %(now_in)s
 ORDER BY locked_until
 LIMIT %(limit)s;

-- name: next_due
-- Nothing comes due in a paused queue: a worker waits for the resume's wake-up instead of looking again and again.
SELECT min(run_at) AS due FROM jobs WHERE status = 'queued' AND queue = %(queue)s
   AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = %(queue)s);

-- name: add_to_tally
-- Rows arrive sorted by key, so concurrent workers lock counter rows in one order and never deadlock.
INSERT INTO tally (name, queue, le, value)
SELECT * FROM unnest(%(names)s::text[], %(queues)s::text[], %(les)s::float8[], %(values)s::float8[])
ON CONFLICT (name, queue, le) DO UPDATE SET value = tally.value + excluded.value;
