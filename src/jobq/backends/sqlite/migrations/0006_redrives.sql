-- Redrives: replay_many by filter kept as an operation that shows progress, can be cancelled and resumed,
-- and whose outcome stays queryable through the letters it replayed (dead_letters.redrive_id).
CREATE TABLE redrives (
    id         TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    state      TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'cancelled', 'finished')),
    filters    TEXT NOT NULL,              -- JSON: the dead-letter filter, times in unix seconds
    force      INTEGER NOT NULL DEFAULT 0,
    rate       REAL,                       -- replays a second at most; NULL: unthrottled
    matched    INTEGER NOT NULL,
    replayed   INTEGER NOT NULL DEFAULT 0,
    skipped    INTEGER NOT NULL DEFAULT 0,
    cursor     TEXT,                       -- the last letter handled (newest first): a resume starts after it
    owner      TEXT,                       -- the run driving it; a resume replaces it (a crash leaves 'running')
    started_by TEXT
) STRICT;

-- The redrive that made the letter's latest replay (NULL when by hand), as replayed_as is its job.
ALTER TABLE dead_letters ADD COLUMN redrive_id TEXT;
CREATE INDEX dead_by_redrive ON dead_letters (redrive_id) WHERE redrive_id IS NOT NULL;

-- Every replay, abandon and purge (a purge: one entry with its count, no letter), written in the transaction
-- of the change it records, never updated. No foreign
-- key: the trail outlives a purged letter. No CHECK on action: new kinds of entry need no table rebuild.
CREATE TABLE dlq_audit (
    id             TEXT PRIMARY KEY,
    dead_letter_id TEXT,
    at             REAL NOT NULL,
    action         TEXT NOT NULL,
    actor          TEXT,
    detail         TEXT NOT NULL DEFAULT '{}'  -- JSON: a replay's job, redrive, force, edited payloads; a note
) STRICT;
CREATE INDEX dlq_audit_by_letter ON dlq_audit (dead_letter_id, id);
