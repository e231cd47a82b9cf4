-- The recovery queue: when a pending dead letter is due, which round it is in, and the letter it follows.
ALTER TABLE dead_letters
    ADD COLUMN recover_at double precision,
    ADD COLUMN recovery_round integer,
    ADD COLUMN previous_id text COLLATE "C";
DROP INDEX IF EXISTS dead_pending_recovery;
CREATE INDEX dead_due_for_recovery ON dead_letters (recover_at) WHERE resolution = 'pending_recovery';
