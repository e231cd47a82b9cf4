-- Flow control on SQLite: cancelling jobs, pausing queues, periodic ticks. The shared store
-- (jobq.backends.store.control, .ticks) runs these by name; the other dialect has each under the same name.

-- name: cancel_queued
UPDATE jobs SET status = 'cancelled', finished_at = :now
 WHERE id = :id AND status = 'queued'
RETURNING id;

-- name: ask_to_stop
-- A running job cannot be stopped from here: its worker reads this within a second (cancels_requested) and
-- cancels the handler. Asking twice keeps the first time.
UPDATE jobs SET cancel_requested = coalesce(cancel_requested, :now)
 WHERE id = :id AND status = 'running'
RETURNING id;

-- name: job_status
SELECT status FROM jobs WHERE id = :id;

-- name: cancels_requested
SELECT id, token FROM jobs
 WHERE id IN (SELECT value FROM json_each(:ids)) AND status = 'running' AND cancel_requested IS NOT NULL;

-- name: pause_queue
INSERT INTO queue_pauses (queue, paused_at, paused_by) VALUES (:queue, :now, :by)
ON CONFLICT (queue) DO NOTHING;

-- name: resume_queue
DELETE FROM queue_pauses WHERE queue = :queue;

-- name: paused_queues
SELECT queue, paused_at, paused_by FROM queue_pauses ORDER BY queue;

-- name: queue_known
-- An operator's look-up (pause, resume): is this a queue at all, or a typo? Stops at the first job found.
SELECT 1 AS known WHERE EXISTS (SELECT 1 FROM jobs WHERE queue = :queue)
                     OR EXISTS (SELECT 1 FROM queue_pauses WHERE queue = :queue);

-- name: insert_tick
-- Once per schedule and tick (the primary key), and never behind the schedule's latest tick: a worker whose clock
-- stepped back, or that was asleep while others went on, finds the tick taken and enqueues nothing.
INSERT INTO periodic_ticks (schedule, tick, job_id, enqueued_at)
SELECT :schedule, :tick, :job_id, :now
 WHERE NOT EXISTS (SELECT 1 FROM periodic_ticks WHERE schedule = :schedule AND tick >= :tick)
ON CONFLICT DO NOTHING
RETURNING tick;

-- name: forget_ticks
DELETE FROM periodic_ticks WHERE schedule = :schedule AND tick < :before;

-- name: last_ticks
SELECT t.schedule, t.tick, t.job_id, j.status
  FROM periodic_ticks AS t
  LEFT JOIN jobs AS j ON j.id = t.job_id
 WHERE t.tick = (SELECT max(tick) FROM periodic_ticks AS later WHERE later.schedule = t.schedule);
