-- The operator side on SQLite: statements the shared store (jobq.backends.store) runs by name;
-- the other dialect has each under the same name. Values are always bound parameters.

-- name: read_tally
SELECT name, queue, le, value FROM tally;

-- name: get_job
SELECT * FROM jobs WHERE id = :id;

-- name: job_counts
SELECT queue, status, run_at > :now AS later, count(*) AS n
  FROM jobs
 GROUP BY queue, status, later;

-- name: delete_jobs
DELETE FROM jobs
 WHERE status IN (SELECT value FROM json_each(:statuses))
   AND (:before IS NULL OR coalesce(finished_at, created_at) < :before);

-- name: get_dead_letter
SELECT * FROM dead_letters WHERE id = :id;

-- name: replay_dead_letter
-- redrive_id: the redrive making this replay (NULL by hand). A redrive replays a letter once, even forced.
UPDATE dead_letters
   SET resolution = 'replayed', replayed_at = :now, replayed_as = :new_job_id, recover_at = NULL,
       redrive_id = :redrive_id
 WHERE id = :id AND (:force OR resolution NOT IN ('replayed', 'recovered'))
   AND (:redrive_id IS NULL OR redrive_id IS NOT :redrive_id);

-- name: abandon_dead_letter
UPDATE dead_letters SET resolution = 'abandoned', note = coalesce(:note, note)
 WHERE id = :id AND resolution IN ('open', 'pending_recovery');

-- name: insert_dead_letter
INSERT INTO dead_letters (id, job_id, task, queue, priority, tenant, key, payload, attempts, max_attempts,
                          errors, error_type, error_message, error_traceback, error_class, fingerprint,
                          failed_at, created_at, resolution, replayed_at, replayed_as, note,
                          recover_at, recovery_round, previous_id)
VALUES (:id, :job_id, :task, :queue, :priority, :tenant, :key, :payload, :attempts, :max_attempts,
        :errors, :error_type, :error_message, :error_traceback, :error_class, :fingerprint,
        :failed_at, :created_at, :resolution, :replayed_at, :replayed_as, :note,
        :recover_at, :recovery_round, :previous_id)
ON CONFLICT (id) DO NOTHING;

-- name: add_to_outbox
-- data: the dead letter's row as written, so the event says the same whatever happens to the letter later.
INSERT INTO outbox (id, kind, dead_letter_id, created_at, next_at, data)
VALUES (:id, :kind, :dead_letter_id, :at, :at, :data);

-- name: due_for_recovery
SELECT id FROM dead_letters
 WHERE resolution = 'pending_recovery' AND recover_at <= :now
 ORDER BY recover_at
 LIMIT :limit;

-- name: dead_letter_summary
SELECT count(*) AS total,
       coalesce(sum(error_class != 'recoverable'), 0) AS permanent,
       coalesce(sum(failed_at >= :since), 0) AS recent,
       coalesce(sum(recovery_round IS NOT NULL OR resolution = 'pending_recovery'), 0) AS in_recovery,
       avg(attempts) AS avg_attempts,
       (SELECT coalesce(sum(value), 0) FROM tally WHERE name = 'dlq_pruned') AS pruned
  FROM dead_letters;

-- name: dead_letters_by_class
SELECT error_class AS value, count(*) AS n FROM dead_letters GROUP BY error_class;

-- name: dead_letters_by_resolution
SELECT resolution AS value, count(*) AS n FROM dead_letters GROUP BY resolution;

-- name: claim_deliveries
UPDATE outbox SET next_at = :until, attempts = attempts + 1
 WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_at <= :now ORDER BY next_at LIMIT :limit)
RETURNING id, kind, dead_letter_id, created_at, attempts, delivered_to, data;

-- name: release_deliveries
-- Claimed entries given back untried (a stopping worker's time ran out): due again, their attempt not counted.
UPDATE outbox SET next_at = :now, attempts = attempts - 1
 WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'pending';

-- name: finish_delivery
-- A dead letter's copy goes once its delivery is over: a purge must not leave the payload behind for good.
UPDATE outbox SET state = :state, next_at = :next_at, delivered_to = :delivered_to, last_error = :error,
       data = CASE WHEN :state <> 'pending' AND dead_letter_id IS NOT NULL THEN NULL ELSE data END
 WHERE id = :id;

-- name: outbox_counts
SELECT state, count(*) AS n FROM outbox GROUP BY state;

-- name: new_fingerprints
-- Failures never seen before the window: their first dead letter falls inside it.
SELECT fingerprint, min(failed_at) AS first_seen, count(*) AS n
  FROM dead_letters
 GROUP BY fingerprint
HAVING min(failed_at) >= :since
 ORDER BY first_seen;
