-- Alerts go through the outbox too: an alert entry carries its event instead of a dead letter's id.
ALTER TABLE outbox ADD COLUMN data jsonb;

-- Which alerts fired and whether they cleared since: an alert fires when it is crossed, stays quiet while it
-- stays crossed, and fires again only after it cleared and a quiet period passed (one storm, one message).
CREATE TABLE alert_state (
    name       text COLLATE "C" PRIMARY KEY,
    fired_at   double precision NOT NULL,
    cleared_at double precision
);

-- When a chore shared by all workers (evaluating alerts, keeping the quota) is next due: one worker claims
-- each turn, so a hundred workers cost the database what one does.
CREATE TABLE chores (
    name    text COLLATE "C" PRIMARY KEY,
    next_at double precision NOT NULL
);
