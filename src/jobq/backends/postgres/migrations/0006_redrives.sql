-- Redrives: replay_many by filter kept as an operation that shows progress, can be cancelled and resumed,
-- and whose outcome stays queryable through the letters it replayed (dead_letters.redrive_id).
CREATE TABLE redrives (
    id         text COLLATE "C" PRIMARY KEY,
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL,
    state      text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'cancelled', 'finished')),
    filters    jsonb NOT NULL,                   -- the dead-letter filter, times in unix seconds
    force      boolean NOT NULL DEFAULT false,
    rate       double precision,                 -- replays a second at most; NULL: unthrottled
    matched    integer NOT NULL,
    replayed   integer NOT NULL DEFAULT 0,
    skipped    integer NOT NULL DEFAULT 0,
    cursor     text COLLATE "C",                 -- the last letter handled (newest first): a resume starts after it
    owner      text,                             -- the run driving it; a resume replaces it (a crash leaves 'running')
    started_by text
);

-- The redrive that made the letter's latest replay (NULL when by hand), as replayed_as is its job.
ALTER TABLE dead_letters ADD COLUMN redrive_id text COLLATE "C";
CREATE INDEX dead_by_redrive ON dead_letters (redrive_id) WHERE redrive_id IS NOT NULL;

-- Every replay, abandon and purge (a purge: one entry with its count, no letter), written in the transaction
-- of the change it records, never updated. No foreign
-- key: the trail outlives a purged letter. No CHECK on action: new kinds of entry need no migration.
CREATE TABLE dlq_audit (
    id             text COLLATE "C" PRIMARY KEY,
    dead_letter_id text COLLATE "C",
    at             double precision NOT NULL,
    action         text NOT NULL,
    actor          text,
    detail         jsonb NOT NULL DEFAULT '{}'   -- a replay's job, redrive, force, edited payloads; a note
);
CREATE INDEX dlq_audit_by_letter ON dlq_audit (dead_letter_id, id);
