-- Flow control on PostgreSQL: cancelling jobs, pausing queues, periodic ticks. The shared store
-- (jobq.backends.store.control, .ticks) runs these by name; the other dialect has each under the same name.

-- name: cancel_queued
UPDATE jobs SET status = 'cancelled', finished_at = %(now)s
 WHERE id = %(id)s AND status = 'queued'
RETURNING id;

-- name: ask_to_stop
-- A running job cannot be stopped from here: its worker reads this within a second (cancels_requested) and
-- cancels the handler. Asking twice keeps the first time.
UPDATE jobs SET cancel_requested = coalesce(cancel_requested, %(now)s)
 WHERE id = %(id)s AND status = 'running'
RETURNING id;

-- name: job_status
SELECT status FROM jobs WHERE id = %(id)s;

-- name: cancels_requested
SELECT id, token FROM jobs
 WHERE id = ANY(%(ids)s::text[]) AND status = 'running' AND cancel_requested IS NOT NULL;

-- name: pause_queue
INSERT INTO queue_pauses (queue, paused_at, paused_by) VALUES (%(queue)s, %(now)s, %(by)s)
ON CONFLICT (queue) DO NOTHING;

-- name: resume_queue
DELETE FROM queue_pauses WHERE queue = %(queue)s;

-- name: paused_queues
SELECT queue, paused_at, paused_by FROM queue_pauses ORDER BY queue;

-- name: queue_known
-- An operator's look-up (pause, resume): is this a queue at all, or a typo? Stops at the first job found.
SELECT 1 AS known WHERE EXISTS (SELECT 1 FROM jobs WHERE queue = %(queue)s)
                     OR EXISTS (SELECT 1 FROM queue_pauses WHERE queue = %(queue)s);

-- name: insert_tick
-- Once per schedule and tick (the primary key: a racing worker waits for the first to commit, then does nothing),
-- and never behind the schedule's latest tick: a worker whose clock stepped back, or that was asleep while others
-- went on, finds the tick taken and enqueues nothing.
INSERT INTO periodic_ticks (schedule, tick, job_id, enqueued_at)
SELECT %(schedule)s, %(tick)s, %(job_id)s, %(now)s
 WHERE NOT EXISTS (SELECT 1 FROM periodic_ticks WHERE schedule = %(schedule)s AND tick >= %(tick)s)
ON CONFLICT DO NOTHING
RETURNING tick;

-- name: forget_ticks
DELETE FROM periodic_ticks WHERE schedule = %(schedule)s AND tick < %(before)s;

-- name: last_ticks
SELECT DISTINCT ON (t.schedule) t.schedule, t.tick, t.job_id, j.status
  FROM periodic_ticks AS t
  LEFT JOIN jobs AS j ON j.id = t.job_id
 ORDER BY t.schedule, t.tick DESC;
