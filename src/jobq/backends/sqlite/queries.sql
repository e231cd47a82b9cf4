-- Every statement the SQLite backend runs. Values are always bound parameters.

-- name: insert_job
INSERT INTO jobs (id, task, queue, status, priority, payload, tenant, key, unique_key, max_attempts,
                  run_at, created_at, replay_of)
VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING;

-- name: insert_batch_from_json
-- A batch of one task's calls: what they share is bound once, ids and payloads come as one JSON array.
INSERT INTO jobs (id, task, queue, status, priority, payload, tenant, key, max_attempts,
                  run_at, created_at, replay_of)
SELECT json_extract(value, '$[0]'), :task, :queue, 'queued', :priority, json_extract(value, '$[1]'),
       :tenant, :key, :max_attempts, :run_at, :created_at, :replay_of
  FROM json_each(:rows)
 WHERE true  -- SQLite needs a WHERE to tell an upsert's ON from a join's
ON CONFLICT DO NOTHING;

-- name: pending_with_unique_key
SELECT id FROM jobs WHERE unique_key = ? AND status IN ('queued', 'running');

-- name: claim
-- A job that must run alone (its last attempt was lost with its worker) is claimed by claim_alone only.
UPDATE jobs
   SET status = 'running', attempts = attempts + 1, token = token + 1,
       locked_until = :locked_until, worker = :worker, started_at = :now
 WHERE id IN (SELECT id FROM jobs
               WHERE status = 'queued' AND queue = :queue AND run_at <= :now AND NOT alone
               ORDER BY priority DESC, run_at
               LIMIT :limit)
RETURNING id, token, task, queue, payload, attempts, max_attempts, tenant, key, created_at, run_at, priority, alone;

-- name: claim_alone
-- One job that must run alone, for a worker that runs nothing else.
UPDATE jobs
   SET status = 'running', attempts = attempts + 1, token = token + 1,
       locked_until = :locked_until, worker = :worker, started_at = :now
 WHERE id IN (SELECT id FROM jobs
               WHERE status = 'queued' AND queue = :queue AND run_at <= :now AND alone
               ORDER BY priority DESC, run_at
               LIMIT 1)
RETURNING id, token, task, queue, payload, attempts, max_attempts, tenant, key, created_at, run_at, priority, alone;

-- name: alone_due
SELECT 1 FROM jobs WHERE status = 'queued' AND queue = :queue AND run_at <= :now AND alone LIMIT 1;

-- name: ack
UPDATE jobs SET status = 'succeeded', finished_at = :at, locked_until = NULL
 WHERE id = :id AND token = :token AND status = 'running'
RETURNING replay_of;

-- name: mark_recovered
-- A replay that succeeded heals a dead letter of the recovery queue (only the letter's latest replay
-- counts); other letters stay 'replayed', their outcome readable on the job they were replayed as.
UPDATE dead_letters SET resolution = 'recovered'
 WHERE id = :letter AND replayed_as = :job AND resolution = 'replayed' AND recovery_round IS NOT NULL;

-- name: due_for_recovery
SELECT id FROM dead_letters
 WHERE resolution = 'pending_recovery' AND recover_at <= :now
 ORDER BY recover_at
 LIMIT :limit;

-- name: retry
UPDATE jobs
   SET status = 'queued', run_at = :run_at, errors = json_insert(errors, '$[#]', json(:error)),
       locked_until = NULL, worker = NULL, alone = :expired_at IS NOT NULL  -- lost with its worker: alone next
 WHERE id = :id AND token = :token AND status = 'running'
   AND (:expired_at IS NULL OR locked_until < :expired_at);

-- name: release
UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_until = NULL, worker = NULL
 WHERE id = :id AND token = :token AND status = 'running';

-- name: bury
-- The job turns dead; its letter is written next, in the same transaction (store/burial.py). prior_round: the
-- recovery round of the letter this job replayed, from which the domain plans the new letter's round.
UPDATE jobs
   SET status = 'dead', finished_at = :at, errors = json_insert(errors, '$[#]', json(:error)),
       locked_until = NULL
 WHERE id = :id AND token = :token AND status = 'running'
   AND (:expired_at IS NULL OR locked_until < :expired_at)
RETURNING task, queue, priority, tenant, key, payload, attempts, errors, created_at, replay_of,
          (SELECT recovery_round FROM dead_letters WHERE dead_letters.id = jobs.replay_of) AS prior_round;

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

-- name: extend_lease
UPDATE jobs SET locked_until = :locked_until
 WHERE id = :id AND token = :token AND status = 'running';

-- name: expired_leases
SELECT id, token, task, queue, attempts, max_attempts, worker, started_at
  FROM jobs
 WHERE status = 'running' AND locked_until < :now
 ORDER BY locked_until
 LIMIT :limit;

-- name: next_due
SELECT min(run_at) FROM jobs WHERE status = 'queued' AND queue = :queue;

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

-- name: resolve_dead_letter
UPDATE dead_letters SET resolution = :resolution, note = coalesce(:note, note)
 WHERE id = :id AND resolution IN ('open', 'pending_recovery');

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

-- name: add_to_tally
INSERT INTO tally (name, queue, le, value) VALUES (?, ?, ?, ?)
ON CONFLICT (name, queue, le) DO UPDATE SET value = value + excluded.value;

-- name: read_tally
SELECT name, queue, le, value FROM tally;

-- name: add_to_outbox
-- data: the dead letter's row as written, so the event says the same whatever happens to the letter later.
INSERT INTO outbox (id, kind, dead_letter_id, created_at, next_at, data)
VALUES (:id, :kind, :dead_letter_id, :at, :at, :data);

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
