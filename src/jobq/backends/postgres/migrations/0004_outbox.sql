-- Hook deliveries, written in the same transaction as the dead-lettering that causes them and delivered
-- after commit (an outbox): a failing or hanging receiver never blocks or loses a dead letter.
CREATE TABLE outbox (
    id             text COLLATE "C" PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('on_dead', 'notify', 'alert')),
    dead_letter_id text COLLATE "C",
    created_at     double precision NOT NULL,
    next_at        double precision NOT NULL,  -- due time; while a worker delivers, the end of its claim
    attempts       integer NOT NULL DEFAULT 0,
    state          text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    delivered_to   jsonb NOT NULL DEFAULT '[]',  -- sinks that have it: a retry goes only to the others
    last_error     text
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE state = 'pending';
