-- Tracked redrives and the dead letters' audit trail, on SQLite. Values are always bound parameters.

-- name: insert_redrive
INSERT INTO redrives (id, created_at, updated_at, state, filters, force, rate, matched, replayed, skipped,
                      cursor, owner, started_by)
VALUES (:id, :created_at, :updated_at, :state, :filters, :force, :rate, :matched, :replayed, :skipped,
        :cursor, :owner, :started_by);

-- name: get_redrive
SELECT * FROM redrives WHERE id = :id;

-- name: list_redrives
SELECT * FROM redrives
 WHERE :cursor IS NULL OR id < :cursor
 ORDER BY id DESC
 LIMIT :limit;

-- name: take_redrive
-- A resume: the caller drives it from now on, whether it was cancelled or its runner is gone (a crash leaves
-- it 'running'). A runner still alive sees the new owner before its next letter and stops.
UPDATE redrives SET state = 'running', owner = :owner, updated_at = :now
 WHERE id = :id AND state != 'finished'
RETURNING *;

-- name: count_replay
-- In the replay's own transaction, so the progress a crash leaves behind is exact and a resume starts after it.
-- Fenced like a skip: a redrive cancelled or taken over counts nothing more, and its replay is undone.
UPDATE redrives SET replayed = replayed + 1, cursor = :cursor, updated_at = :now
 WHERE id = :id AND state = 'running' AND owner = :owner;

-- name: count_skip
UPDATE redrives SET skipped = skipped + 1, cursor = :cursor, updated_at = :now
 WHERE id = :id AND state = 'running' AND owner = :owner;

-- name: stop_redrive
UPDATE redrives SET state = :state, updated_at = :now
 WHERE id = :id AND state = 'running' AND (:owner IS NULL OR owner = :owner);

-- name: redrive_outcome
-- The jobs a redrive made, by the fingerprint of the letter replayed: the job's state, and the fingerprint
-- of its new dead letter when it died again (which outlives a cleared job).
SELECT d.fingerprint, j.status, again.fingerprint AS died_with, count(*) AS n
  FROM dead_letters AS d
  LEFT JOIN jobs AS j ON j.id = d.replayed_as
  LEFT JOIN dead_letters AS again ON again.job_id = d.replayed_as
 WHERE d.redrive_id = :id
 GROUP BY d.fingerprint, j.status, again.fingerprint;

-- name: insert_audit
INSERT INTO dlq_audit (id, dead_letter_id, at, action, actor, detail)
VALUES (:id, :dead_letter_id, :at, :action, :actor, :detail);

-- name: audit_trail
SELECT * FROM dlq_audit WHERE dead_letter_id = :dead_letter_id ORDER BY id;

-- name: audit_log
SELECT * FROM dlq_audit WHERE :cursor IS NULL OR id < :cursor ORDER BY id DESC LIMIT :limit;
