-- Tracked redrives and the dead letters' audit trail, on PostgreSQL. Values are always bound parameters.

-- name: insert_redrive
INSERT INTO redrives (id, created_at, updated_at, state, filters, force, rate, matched, replayed, skipped,
                      cursor, owner, started_by)
VALUES (%(id)s, %(created_at)s, %(updated_at)s, %(state)s, %(filters)s::jsonb, %(force)s, %(rate)s, %(matched)s,
        %(replayed)s, %(skipped)s, %(cursor)s, %(owner)s, %(started_by)s);

-- name: get_redrive
SELECT * FROM redrives WHERE id = %(id)s;

-- name: list_redrives
SELECT * FROM redrives
 WHERE %(cursor)s::text IS NULL OR id < %(cursor)s::text
 ORDER BY id DESC
 LIMIT %(limit)s;

-- name: take_redrive
-- A resume: the caller drives it from now on, whether it was cancelled or its runner is gone (a crash leaves
-- it 'running'). A runner still alive sees the new owner before its next letter and stops.
UPDATE redrives SET state = 'running', owner = %(owner)s, updated_at = %(now)s
 WHERE id = %(id)s AND state <> 'finished'
RETURNING *;

-- name: count_replay
-- In the replay's own transaction, so the progress a crash leaves behind is exact and a resume starts after it.
-- Fenced like a skip: a redrive cancelled or taken over counts nothing more, and its replay is undone.
UPDATE redrives SET replayed = replayed + 1, cursor = %(cursor)s, updated_at = %(now)s
 WHERE id = %(id)s AND state = 'running' AND owner = %(owner)s;

-- name: count_skip
UPDATE redrives SET skipped = skipped + 1, cursor = %(cursor)s, updated_at = %(now)s
 WHERE id = %(id)s AND state = 'running' AND owner = %(owner)s;

-- name: stop_redrive
UPDATE redrives SET state = %(state)s, updated_at = %(now)s
 WHERE id = %(id)s AND state = 'running' AND (%(owner)s::text IS NULL OR owner = %(owner)s::text);

-- name: redrive_outcome
-- The jobs a redrive made, by the fingerprint of the letter replayed: the job's state, and the fingerprint
-- of its new dead letter when it died again (which outlives a cleared job).
SELECT d.fingerprint, j.status, again.fingerprint AS died_with, count(*) AS n
  FROM dead_letters AS d
  LEFT JOIN jobs AS j ON j.id = d.replayed_as
  LEFT JOIN dead_letters AS again ON again.job_id = d.replayed_as
 WHERE d.redrive_id = %(id)s
 GROUP BY d.fingerprint, j.status, again.fingerprint;

-- name: insert_audit
INSERT INTO dlq_audit (id, dead_letter_id, at, action, actor, detail)
VALUES (%(id)s, %(dead_letter_id)s, %(at)s, %(action)s, %(actor)s, %(detail)s::json);

-- name: audit_trail
SELECT id, dead_letter_id, at, action, actor, detail FROM dlq_audit
 WHERE dead_letter_id = %(dead_letter_id)s
 ORDER BY id;

-- name: audit_log
SELECT id, dead_letter_id, at, action, actor, detail FROM dlq_audit
 WHERE %(cursor)s::text IS NULL OR id < %(cursor)s
 ORDER BY id DESC
 LIMIT %(limit)s;
