-- The SQLite backend's hot path: enqueue, claim, record, leases. Values are always bound parameters.

-- name: insert_job
INSERT INTO jobs (id, task, queue, status, priority, payload, tenant, key, unique_key, max_attempts,
                  run_at, created_at, replay_of)
VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING;

-- name: pending_with_unique_key
SELECT id FROM jobs WHERE unique_key = ? AND status IN ('queued', 'running');

-- name: claim
-- A job that must run alone (its last attempt was lost with its worker) is claimed by claim_alone only.
-- A paused queue (queue_pauses) gives nothing: one primary-key probe, of an empty table when nothing is paused.
UPDATE jobs
   SET status = 'running', attempts = attempts + 1, token = token + 1,
       locked_until = :locked_until, worker = :worker, started_at = :now
 WHERE id IN (SELECT id FROM jobs
               WHERE status = 'queued' AND queue = :queue AND run_at <= :now AND NOT alone
                 AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = :queue)
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
                 AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = :queue)
               ORDER BY priority DESC, run_at
               LIMIT 1)
RETURNING id, token, task, queue, payload, attempts, max_attempts, tenant, key, created_at, run_at, priority, alone;

-- name: alone_due
SELECT 1 FROM jobs WHERE status = 'queued' AND queue = :queue AND run_at <= :now AND alone
   AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = :queue)
 LIMIT 1;

-- name: ack
UPDATE jobs SET status = 'succeeded', finished_at = :at, locked_until = NULL, result = :result
 WHERE id = :id AND token = :token AND status = 'running'
RETURNING replay_of;

-- name: mark_recovered
-- A replay that succeeded heals a dead letter of the recovery queue (only the letter's latest replay
-- counts); other letters stay 'replayed', their outcome readable on the job they were replayed as.
UPDATE dead_letters SET resolution = 'recovered'
 WHERE id = :letter AND replayed_as = :job AND resolution = 'replayed' AND recovery_round IS NOT NULL;

-- name: retry
-- A job an operator cancelled while it ran is not queued again, however its attempt ended.
UPDATE jobs
   SET status = CASE WHEN cancel_requested IS NULL THEN 'queued' ELSE 'cancelled' END,
       finished_at = cancel_requested, run_at = :run_at, errors = json_insert(errors, '$[#]', json(:error)),
       locked_until = NULL, worker = NULL, alone = :expired_at IS NOT NULL  -- lost with its worker: alone next
 WHERE id = :id AND token = :token AND status = 'running'
   AND (:expired_at IS NULL OR locked_until < :expired_at);

-- name: release
UPDATE jobs SET status = CASE WHEN cancel_requested IS NULL THEN 'queued' ELSE 'cancelled' END,
       finished_at = cancel_requested, attempts = attempts - 1, locked_until = NULL, worker = NULL
 WHERE id = :id AND token = :token AND status = 'running';

-- name: cancel_running
-- The handler of a job an operator cancelled stopped: kept as cancelled, its attempt not charged as a failure.
UPDATE jobs SET status = 'cancelled', finished_at = :at, locked_until = NULL
 WHERE id = :id AND token = :token AND status = 'running';

-- name: dead_letter
-- The job turns dead; its letter is written next, in the same transaction (store/dead_lettering.py). prior_round: the
-- recovery round of the letter this job replayed, from which the domain plans the new letter's round.
UPDATE jobs
   SET status = 'dead', finished_at = :at, errors = json_insert(errors, '$[#]', json(:error)),
       locked_until = NULL
 WHERE id = :id AND token = :token AND status = 'running'
   AND (:expired_at IS NULL OR locked_until < :expired_at)
RETURNING task, queue, priority, tenant, key, payload, attempts, errors, created_at, replay_of,
          (SELECT recovery_round FROM dead_letters WHERE dead_letters.id = jobs.replay_of) AS prior_round;

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
-- Nothing comes due in a paused queue: a worker waits for the resume's wake-up instead of looking again and again.
SELECT min(run_at) FROM jobs WHERE status = 'queued' AND queue = :queue
   AND NOT EXISTS (SELECT 1 FROM queue_pauses WHERE queue = :queue);

-- name: add_to_tally
INSERT INTO tally (name, queue, le, value) VALUES (?, ?, ?, ?)
ON CONFLICT (name, queue, le) DO UPDATE SET value = value + excluded.value;
