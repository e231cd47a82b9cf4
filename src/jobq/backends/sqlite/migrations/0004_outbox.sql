-- Hook deliveries, written in the same transaction as the dead-lettering that causes them and delivered
-- after commit (an outbox): a failing or hanging receiver never blocks or loses a dead letter.
CREATE TABLE outbox (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('on_dead', 'notify', 'alert')),
    dead_letter_id TEXT,
    created_at     REAL NOT NULL,
    next_at        REAL NOT NULL,  -- due time; while a worker delivers, the end of its claim
    attempts       INTEGER NOT NULL DEFAULT 0,
    state          TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    delivered_to   TEXT NOT NULL DEFAULT '[]',  -- sinks that have it: a retry goes only to the others
    last_error     TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
