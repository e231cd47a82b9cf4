-- Chores any worker may do: fire alerts once per storm, keep the DLQ within its quota.

-- name: lock_alerts
-- Evaluations take turns: BEGIN IMMEDIATE already holds SQLite's one write lock, so nothing more to take.
SELECT 1;

-- An alert has a row from when it fires until it has stayed clear for the quiet period: while the row is
-- there, the alert is one storm and says nothing more.

-- name: clear_alerts
UPDATE alert_state SET cleared_at = :now
 WHERE cleared_at IS NULL AND name NOT IN (SELECT value FROM json_each(:crossed));

-- name: forget_alerts
-- Clear for the whole quiet period: the storm is over, the next crossing is news.
DELETE FROM alert_state WHERE cleared_at <= :now - :quiet;

-- name: resume_alerts
-- Crossed again before the quiet period ended: the same storm goes on.
UPDATE alert_state SET cleared_at = NULL
 WHERE cleared_at IS NOT NULL AND name IN (SELECT value FROM json_each(:crossed));

-- name: fire_alerts
-- Returns the names that fire: those of which no storm is going on.
INSERT INTO alert_state (name, fired_at)
SELECT value, :now FROM json_each(:crossed)
 WHERE true  -- SQLite needs a WHERE to tell an upsert's ON from a join's
ON CONFLICT (name) DO NOTHING
RETURNING name;

-- name: add_alert_to_outbox
INSERT INTO outbox (id, kind, dead_letter_id, created_at, next_at, data) VALUES (:id, 'alert', NULL, :now, :now, :data);

-- name: prune_victims
-- The oldest letters past the quota: failed before the age bound, or older than the newest :keep. A letter
-- pending recovery is never pruned: a worker is about to replay it.
SELECT * FROM dead_letters
 WHERE resolution != 'pending_recovery'
   AND (failed_at < :before
        OR id <= (SELECT id FROM dead_letters WHERE resolution != 'pending_recovery'
                   ORDER BY id DESC LIMIT 1 OFFSET :keep))
 ORDER BY id
 LIMIT :limit;

-- name: delete_dead_letters
DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(:ids));

-- name: claim_chore
-- Takes the chore's turn when it is due (or new); a worker that finds it taken skips it.
INSERT INTO chores (name, next_at) VALUES (:name, :next_at)
ON CONFLICT (name) DO UPDATE SET next_at = excluded.next_at WHERE chores.next_at <= :now
RETURNING name;
