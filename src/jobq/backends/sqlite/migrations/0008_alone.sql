-- A job whose last attempt was lost with its worker runs its next attempt alone in a worker: a job that kills
-- its worker then takes no other job down with it, and the jobs that were lost beside it run safely.
ALTER TABLE jobs ADD COLUMN alone INTEGER NOT NULL DEFAULT 0 CHECK (alone IN (0, 1));
CREATE INDEX jobs_due_alone ON jobs (queue, priority DESC, run_at) WHERE status = 'queued' AND alone;
