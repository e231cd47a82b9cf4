-- The recovery queue: when a pending dead letter is due, which round it is in, and the letter it follows.
ALTER TABLE dead_letters ADD COLUMN recover_at REAL;
ALTER TABLE dead_letters ADD COLUMN recovery_round INTEGER;
ALTER TABLE dead_letters ADD COLUMN previous_id TEXT;
CREATE INDEX dead_due_for_recovery ON dead_letters (recover_at) WHERE resolution = 'pending_recovery';
