-- The operator side on PostgreSQL: statements the shared store (jobq.backends.store) runs by name;
-- the other dialect has each under the same name. Values are always bound parameters.

-- name: read_tally
SELECT name, queue, le, value FROM tally;

-- name: get_job
SELECT id, task, queue, status, priority, payload, tenant, key, unique_key, attempts, max_attempts,
       run_at, created_at, started_at, finished_at, worker, errors, replay_of, result
  FROM jobs WHERE id = %(id)s;

-- name: job_counts
SELECT queue, status, run_at > %(now)s AS later, count(*) AS n
  FROM jobs
 GROUP BY queue, status, later;

-- name: delete_jobs
DELETE FROM jobs
 WHERE status = ANY(%(statuses)s::text[])
   AND (%(before)s::float8 IS NULL OR coalesce(finished_at, created_at) < %(before)s::float8);

-- name: get_dead_letter
SELECT id, job_id, task, queue, priority, tenant, key, payload, attempts, max_attempts, errors, error_type,
       error_message, error_traceback, error_class, fingerprint, failed_at, created_at, resolution,
       replayed_at, replayed_as, note, recover_at, recovery_round, previous_id
  FROM dead_letters WHERE id = %(id)s;

-- name: replay_dead_letter
-- Two racing replays: the second waits for the first's row lock, then re-reads the row (replayed) and
-- matches nothing. Exactly one new job, without a stronger isolation level.
-- redrive_id: the redrive making this replay (NULL by hand). A redrive replays a letter once, even forced.
UPDATE dead_letters
   SET resolution = 'replayed', replayed_at = %(now)s, replayed_as = %(new_job_id)s, recover_at = NULL,
       redrive_id = %(redrive_id)s
 WHERE id = %(id)s AND (%(force)s OR resolution NOT IN ('replayed', 'recovered'))
   AND (%(redrive_id)s::text IS NULL OR redrive_id IS DISTINCT FROM %(redrive_id)s::text)
RETURNING id;

-- name: abandon_dead_letter
UPDATE dead_letters SET resolution = 'abandoned', note = coalesce(%(note)s, note)
 WHERE id = %(id)s AND resolution IN ('open', 'pending_recovery');

-- name: insert_dead_letter
INSERT INTO dead_letters (id, job_id, task, queue, priority, tenant, key, payload, attempts, max_attempts,
                          errors, error_type, error_message, error_traceback, error_class, fingerprint,
                          failed_at, created_at, resolution, replayed_at, replayed_as, note,
                          recover_at, recovery_round, previous_id)
VALUES (%(id)s, %(job_id)s, %(task)s, %(queue)s, %(priority)s, %(tenant)s, %(key)s, %(payload)s::json,
        %(attempts)s, %(max_attempts)s, %(errors)s::jsonb, %(error_type)s, %(error_message)s,
        %(error_traceback)s, %(error_class)s, %(fingerprint)s, %(failed_at)s, %(created_at)s,
        %(resolution)s, %(replayed_at)s, %(replayed_as)s, %(note)s,
        %(recover_at)s, %(recovery_round)s, %(previous_id)s)
ON CONFLICT (id) DO NOTHING;

-- name: add_to_outbox
-- data: the dead letter's row as written, so the event says the same whatever happens to the letter later.
INSERT INTO outbox (id, kind, dead_letter_id, created_at, next_at, data)
SELECT %(id)s, %(kind)s, d.id, %(at)s, %(at)s, to_jsonb(d) FROM dead_letters AS d WHERE d.id = %(dead_letter_id)s;

-- name: due_for_recovery
SELECT id FROM dead_letters
 WHERE resolution = 'pending_recovery' AND recover_at <= %(now)s
 ORDER BY recover_at
 LIMIT %(limit)s;

-- name: dead_letter_summary
SELECT count(*) AS total,
       count(*) FILTER (WHERE error_class <> 'recoverable') AS permanent,
       count(*) FILTER (WHERE failed_at >= %(since)s) AS recent,
       count(*) FILTER (WHERE recovery_round IS NOT NULL OR resolution = 'pending_recovery') AS in_recovery,
       avg(attempts)::float8 AS avg_attempts,
       (SELECT coalesce(sum(value), 0) FROM tally WHERE name = 'dlq_pruned') AS pruned
  FROM dead_letters;

-- name: dead_letters_by_class
SELECT error_class AS value, count(*) AS n FROM dead_letters GROUP BY error_class;

-- name: dead_letters_by_resolution
SELECT resolution AS value, count(*) AS n FROM dead_letters GROUP BY resolution;

-- name: claim_deliveries
UPDATE outbox SET next_at = %(until)s, attempts = attempts + 1
 WHERE id = ANY(ARRAY(SELECT id FROM outbox WHERE state = 'pending' AND next_at <= %(now)s
                       ORDER BY next_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED))
RETURNING id, kind, dead_letter_id, created_at, attempts, delivered_to, data;

-- name: release_deliveries
-- Claimed entries given back untried (a stopping worker's time ran out): due again, their attempt not counted.
UPDATE outbox SET next_at = %(now)s, attempts = attempts - 1
 WHERE id = ANY(%(ids)s::text[]) AND state = 'pending';

-- name: finish_delivery
-- A dead letter's copy goes once its delivery is over: a purge must not leave the payload behind for good.
UPDATE outbox SET state = %(state)s, next_at = %(next_at)s, delivered_to = %(delivered_to)s::jsonb,
       last_error = %(error)s,
       data = CASE WHEN %(state)s <> 'pending' AND dead_letter_id IS NOT NULL THEN NULL ELSE data END
 WHERE id = %(id)s;

-- name: outbox_counts
SELECT state, count(*) AS n FROM outbox GROUP BY state;

-- name: new_fingerprints
-- Failures never seen before the window: their first dead letter falls inside it.
SELECT fingerprint, min(failed_at) AS first_seen, count(*) AS n
  FROM dead_letters
 GROUP BY fingerprint
HAVING min(failed_at) >= %(since)s
 ORDER BY first_seen;
