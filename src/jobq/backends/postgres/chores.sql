-- Chores any worker may do: fire alerts once per storm, keep the DLQ within its quota.

-- name: lock_alerts
-- Evaluations take turns (they are a minute apart): no two workers fire the same alert, none deadlocks.
LOCK TABLE alert_state IN SHARE ROW EXCLUSIVE MODE;

-- An alert has a row from when it fires until it has stayed clear for the quiet period: while the row is
-- there, the alert is one storm and says nothing more.

-- name: clear_alerts
UPDATE alert_state SET cleared_at = %(now)s
 WHERE cleared_at IS NULL AND NOT (name = ANY(%(crossed)s::text[]));

-- name: forget_alerts
-- Clear for the whole quiet period: the storm is over, the next crossing is news.
DELETE FROM alert_state WHERE cleared_at <= %(now)s - %(quiet)s;

-- name: resume_alerts
-- Crossed again before the quiet period ended: the same storm goes on.
UPDATE alert_state SET cleared_at = NULL WHERE cleared_at IS NOT NULL AND name = ANY(%(crossed)s::text[]);

-- name: fire_alerts
-- Returns the names that fire: those of which no storm is going on.
INSERT INTO alert_state (name, fired_at)
SELECT name, %(now)s FROM unnest(%(crossed)s::text[]) AS crossed (name)
ON CONFLICT (name) DO NOTHING
RETURNING name;

-- name: add_alert_to_outbox
INSERT INTO outbox (id, kind, dead_letter_id, created_at, next_at, data)
VALUES (%(id)s, 'alert', NULL, %(now)s, %(now)s, %(data)s::jsonb);

-- name: prune_victims
-- The oldest letters past the quota: failed before the age bound, or older than the newest ones kept. A letter
-- pending recovery is never pruned: a worker is about to replay it. Racing pruners take disjoint rows.
SELECT id, job_id, task, queue, priority, tenant, key, payload, attempts, max_attempts, errors, error_type,
       error_message, error_traceback, error_class, fingerprint, failed_at, created_at, resolution,
       replayed_at, replayed_as, note, recover_at, recovery_round, previous_id
  FROM dead_letters
 WHERE resolution <> 'pending_recovery'
   AND (failed_at < %(before)s
        OR id <= (SELECT id FROM dead_letters WHERE resolution <> 'pending_recovery'
                   ORDER BY id DESC LIMIT 1 OFFSET %(keep)s))
 ORDER BY id
 LIMIT %(limit)s
   FOR UPDATE SKIP LOCKED;

-- name: delete_dead_letters
DELETE FROM dead_letters WHERE id = ANY(%(ids)s::text[]);

-- name: claim_chore
-- Takes the chore's turn when it is due (or new); a worker that finds it taken skips it.
INSERT INTO chores (name, next_at) VALUES (%(name)s, %(next_at)s)
ON CONFLICT (name) DO UPDATE SET next_at = excluded.next_at WHERE chores.next_at <= %(now)s
RETURNING name;
