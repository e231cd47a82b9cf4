-- Flow control (issue 15): cancelled jobs, paused queues, periodic ticks.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'dead', 'cancelled'));
-- When an operator asked a running job to stop: its worker sees it within a second and cancels the handler.
ALTER TABLE jobs ADD COLUMN cancel_requested double precision;

-- A paused queue has a row here; every claim looks it up by primary key (an InitPlan run once per claim, on an
-- empty table when nothing is paused), so a pause holds for every worker from its next claim on.
CREATE TABLE queue_pauses (
    queue     text PRIMARY KEY,
    paused_at double precision NOT NULL,
    paused_by text
);

-- One row per periodic schedule and tick, inserted in the transaction that enqueues the tick's job: the primary
-- key, not a leader, makes a tick run once however many workers see it come due.
CREATE TABLE periodic_ticks (
    schedule    text NOT NULL,
    tick        double precision NOT NULL,
    job_id      text COLLATE "C" NOT NULL,
    enqueued_at double precision NOT NULL,
    PRIMARY KEY (schedule, tick)
);
