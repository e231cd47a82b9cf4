"""The Worker and its loop: claim a job for each free slot, start it, record how it ended, stop gracefully.

Threads, and what each owns:
- the loop (the caller's thread): claims and starts jobs, turns finished attempts into outcomes, rescues;
- the runners (``runners``): a thread pool for ``def`` handlers and one event loop for ``async def`` ones;
- the heartbeat (``leases``), which renews held leases, so a busy handler cannot starve it;
- the watcher, which waits for other processes' commits; the chores thread (``chores``): hooks, alerts, quota.

An attempt is charged when its job is claimed, so a worker claims only the jobs it starts at once (one per
free slot), in the same transaction that records what finished before them (``recorder``). When the process
dies, the jobs whose leases run out are exactly the ones that were running: only they are charged a
``WorkerLost`` attempt, and each runs its next attempt alone (``ClaimedJob.alone``). A claimed job that could
not start while its lease was fresh (the process was paused) is never started: it is released, uncharged,
or already belongs to another worker.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

from jobq.errors import PayloadError, StorageError, UnknownTask
from jobq.job import (
    Cancelled,
    ClaimedJob,
    DeadLettered,
    JobId,
    Lease,
    Outcome,
    Released,
    RetryLater,
    Succeeded,
    new_id,
)
from jobq.task import TaskOptions
from jobq.worker.app import WorkerApp, replayer
from jobq.worker.chores import Chores
from jobq.worker.failure import Attempt, FailurePolicy
from jobq.worker.leases import Leases
from jobq.worker.recorder import FLUSH_AGE, STORAGE_RETRY, Recorder
from jobq.worker.rescue import RESCUE_EVERY, Rescue
from jobq.worker.runners import Done, Runners, timed_out
from jobq.worker.ticker import Ticker

log = logging.getLogger("jobq.worker")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FRESH = 0.5  # a claimed job starts only within this part of its lease; later, another worker may own it
IDLE_WAIT = 1.0  # seconds an idle loop sleeps at most; wake-ups and due times cut it short
WATCH_SLICE = 0.25  # seconds the watcher blocks per call, so that it notices a stop


@dataclass(slots=True)
class WorkerSummary:
    """What a worker did before it stopped."""

    worker: str
    succeeded: int = 0
    retried: int = 0
    dead: int = 0
    released: int = 0
    rescued: int = 0
    cancelled: int = 0

    @property
    def processed(self) -> int:
        """Attempts that ended (succeeded, retried or dead)."""
        return self.succeeded + self.retried + self.dead


@dataclass(slots=True)
class _Running:
    attempt: Attempt
    deadline: float | None


_WAKE = object()


class Worker:
    """Runs jobs of an app until stopped, or until idle in burst mode."""

    def __init__(
        self,
        app: WorkerApp,
        *,
        concurrency: int = 4,
        queues: Sequence[str] | None = None,
        burst: bool = False,
        dependencies: Mapping[str, Any] | None = None,
        grace: float = 30.0,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency!r}")
        self.app = app
        self.id = f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self.concurrency = concurrency
        # By default, the queues of the tasks this worker can run: a job no worker knows stays queued.
        self.queues: Sequence[str] = list(queues) if queues else sorted({t.options.queue for t in app.tasks.values()})
        self.burst = burst
        self.dependencies = {**app.dependencies, **(dependencies or {})}  # ours win over the app's
        self.grace = grace
        self.summary = WorkerSummary(self.id)
        self.running = threading.Event()
        """Set once ``run`` has begun (and installed its signal handlers): a supervisor may signal it now."""
        self._clock = app.clock
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._halt = threading.Event()
        store = app.backend
        self._store = store
        self._tasks = app.tasks
        self._lease = app.lease
        ticker = Ticker(store, app.schedules, clock=app.clock, new_job=app.tick_job)
        self._chores = Chores(
            store, clock=app.clock, hooks=app.hooks, alerting=app.alerting, quota=app.quota, ticker=ticker,
            wake=self.wake,
        )  # fmt: skip
        self._policy = FailurePolicy(
            app.classifier, app.recovery.delays(), with_hooks=self._chores.hooks is not None,
            redactor=app.redactor if app.redact_at_rest else None,
        )  # fmt: skip
        self._leases = Leases(store, self._clock, lease=app.lease, cancelled=self._cancel)
        self._recorder = Recorder(store, self._leases, clock=self._clock, halt=self._halt, count=self._count)
        self._runners = Runners(
            app.tasks, concurrency=concurrency, dependencies=self.dependencies, events=self._events, clock=self._clock
        )
        self._rescue = Rescue(store, app.tasks, self._policy, replay=replayer(app))
        self._running: dict[JobId, _Running] = {}
        self._may_have_work = True
        self._alone_wanted = False  # a job that must run alone is due: claim nothing more until idle
        self._alone_unsure = False  # a claim beside running jobs came back short: look for one when idle
        self._next_due: float | None = None
        self._due_unknown = False
        self._next_rescue = 0.0
        self._stop_deadline: float | None = None

    # -- control -----------------------------------------------------------------------------------

    def stop(self, *, immediately: bool = False) -> None:
        """Stop claiming and finish running jobs within the grace period; ``immediately`` stops now."""
        if immediately:
            self._halt.set()
        self._stopping.set()
        self._events.put(_WAKE)

    def wake(self) -> None:
        """Something was enqueued in this process: look for work now."""
        self._may_have_work = True
        self._events.put(_WAKE)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        first = not self._stopping.is_set()
        log.warning(
            "Received %s: %s",
            signal.Signals(signum).name,
            "finishing running jobs (send again to stop at once)" if first else "stopping at once",
        )
        self.stop(immediately=not first)

    # -- the loop ----------------------------------------------------------------------------------

    def run(self, *, install_signal_handlers: bool = True) -> WorkerSummary:
        """Work until stopped; returns what was done."""
        previous = self._install_signals() if install_signal_handlers else {}
        self.running.set()
        remove_waker = self.app.add_waker(self.wake)
        helpers = self._start_helpers()
        log.info("Worker %s started (concurrency %d, queues %s)", self.id, self.concurrency, self._queue_names())
        try:
            self._loop_until_stopped()
        finally:
            remove_waker()
            self._halt.set()
            self._runners.close(grace=self.grace)
            self._chores.due.set()
            for thread in helpers:  # they use the app's connections, which the caller may close next
                thread.join(timeout=WATCH_SLICE + 1.0)
            if self.burst:
                self._chores.finish()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("Worker %s stopped: %s", self.id, self.summary)
        return self.summary

    def _start_helpers(self) -> list[threading.Thread]:
        # A burst worker returns when idle, so it has no use for the watcher (nor its exit delay).
        helpers = [threading.Thread(target=self._leases.heartbeat, args=(self._halt,), name="jobq-heartbeat")]
        if not self.burst:
            helpers.append(threading.Thread(target=self._watch, name="jobq-watch"))
        if self._chores.any:
            helpers.append(threading.Thread(target=self._chores.run, args=(self._halt,), name="jobq-chores"))
        for thread in helpers:
            thread.daemon = True
            thread.start()
        return helpers

    def _queue_names(self) -> str:
        return ",".join(self.queues) or "none"

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {signum: signal.signal(signum, self._on_signal) for signum in STOP_SIGNALS}

    def _loop_until_stopped(self) -> None:
        while not self._halt.is_set():
            self._collect(self._wait_time())
            self._expire_timeouts()
            if self._stopping.is_set():
                if self._drained_for_stop():
                    return
                continue
            wrote = self._claim()  # before the rescue's look-ups: a job that woke us starts a round trip or more sooner
            self._rescue_lost()
            self._look_ahead()
            if not (wrote and self._running):
                # A claim just wrote what was waiting, and synced earlier writes if they were due by then: a sync of
                # its own now (due a moment later) would cost a transaction the next claim makes anyway.
                self._recorder.flush(force=not self._running)
            if self.burst and self._idle():
                return

    def _idle(self) -> bool:
        if self._next_due is not None and self._next_due <= self._clock():
            self._came_due()  # our own writes do not show as "changed"
        return self._claim_mode() is None and not (self._running or self._recorder.waiting)

    def _came_due(self) -> None:
        """A scheduled job came due (a retry, perhaps of a job that must run alone): the next claims look again."""
        self._may_have_work, self._alone_unsure, self._next_due = True, True, None

    def _wait_time(self) -> float:
        """How long the loop may block waiting for a finished job or a wake-up."""
        now = self._clock()
        if self._next_due is not None and self._next_due <= now:
            self._came_due()
        if self._claim_mode() is not None and not self._stopping.is_set():
            return 0.0
        # Idle, the watcher thread or an in-process enqueue wakes us; otherwise only due times matter.
        wait = IDLE_WAIT if not self._running else FLUSH_AGE
        moments = [self._next_due, None if self.burst else self._next_rescue, *self._recorder.moments()]
        moments += [r.deadline for r in self._running.values() if r.deadline is not None]
        for moment in moments:
            if moment is not None:
                wait = min(wait, max(0.0, moment - now))
        return wait

    def _collect(self, timeout: float) -> None:
        """Take finished attempts (waiting up to ``timeout`` for the first) and turn them into outcomes."""
        try:
            item = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue.Empty:
            return
        while True:
            if isinstance(item, Done):
                self._finish(item)
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return

    def _watch(self) -> None:
        """A thread that waits for other processes' commits (NOTIFY, or SQLite's data_version) and wakes us."""
        while not self._halt.is_set():
            try:
                if self._store.wait_for_change(WATCH_SLICE):
                    self.wake()
                    time.sleep(0)  # hand the GIL to the loop just woken, ahead of this thread's next look
            except StorageError as exc:
                log.error("Could not watch for new jobs: %s", exc)
                self._halt.wait(STORAGE_RETRY)

    # -- claiming and starting ---------------------------------------------------------------------

    def _claim_mode(self) -> bool | None:
        """None: claim nothing now; else whether the claim looks first for a job that must run alone.

        A job whose last attempt was lost with its worker runs alone: if it kills its worker again, it is the
        only job lost. A busy worker that knows one is due claims nothing more until it is idle.
        """
        if any(running.attempt.job.alone for running in self._running.values()):
            return None
        if self._running:
            busy = self._alone_wanted or len(self._running) >= self.concurrency
            return None if busy or not self._may_have_work else False
        if self._alone_wanted or self._alone_unsure:
            return True
        return False if self._may_have_work else None

    def _claim(self) -> bool:
        """Record what finished and claim a job for each free slot, in one transaction; then start them. True when
        that transaction was written."""
        alone = self._claim_mode()
        if alone is None:
            return False
        room = self.concurrency - len(self._running)
        now = self._clock()
        batch = self._recorder.take(now)
        try:
            applied, claimed = self._store.record_and_claim(
                batch.outcomes, tally=batch.tally, worker=self.id, queues=self.queues, limit=room,
                lease=self._lease, now=now, durable=batch.durable, alone=alone,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the outcomes are kept or settled one by one, never lost
            self._recorder.failed(batch, exc, doing="claim jobs")
            return False
        self._recorder.written(batch, applied, now)
        self._leases.hold(job.lease for job in claimed)
        self._after_claim(claimed, room=room, alone=alone)
        self._start(claimed, fresh_until=now + self._lease * FRESH)
        if 0 < len(claimed) < room:
            # A runner thread just woken needs the GIL, which this thread would keep through its bookkeeping up to
            # its next blocking call (a look-up's round trip): yield it now, so the jobs start first. Only when the
            # queue ran dry, where the wait is a new job's latency: in a drain, the yield cost each round ~0.1 ms.
            time.sleep(0)
        return True

    def _after_claim(self, claimed: Sequence[ClaimedJob], *, room: int, alone: bool) -> None:
        got_alone = bool(claimed) and claimed[0].alone
        if alone:
            self._alone_wanted = False
            self._alone_unsure = got_alone  # there may be more of them
        if len(claimed) < room and not got_alone:
            self._may_have_work = False
            self._due_unknown = True  # looked up after the start: a round trip less before the job starts
            # Jobs that must run alone are not claimed beside others: look for one once this worker is idle.
            self._alone_unsure = self._alone_unsure or bool(self._running)

    def _look_ahead(self) -> None:
        """After a claim that emptied the queues: when does the next scheduled job come due?"""
        if not self._due_unknown:
            return
        try:
            dues = [self._store.next_due(queue=name) for name in self.queues]
        except StorageError as exc:
            log.error("Could not look up the next due job: %s", exc)
            return
        known = [due for due in dues if due is not None]
        self._next_due, self._due_unknown = (min(known) if known else None), False

    def _start(self, jobs: Sequence[ClaimedJob], *, fresh_until: float) -> None:
        for job in jobs:
            task = self._tasks.get(job.task)
            now = self._clock()
            attempt = Attempt(job, self.id, now)
            if task is None or job.unreadable:
                error = (
                    PayloadError(job.unreadable)
                    if job.unreadable
                    else UnknownTask(f"no task named {job.task!r} is registered in this worker")
                )
                self._recorder.attempt(attempt, now, self._failed(attempt, error, task.options if task else None, now))
                continue
            # An async handler's timeout is asyncio's to enforce (it cancels); a def handler's is ours to watch.
            timeout = None if task.is_async else task.options.timeout
            self._running[job.lease.job_id] = _Running(attempt, now + timeout if timeout else None)
            self._runners.start(task, self._runners.hand_over(attempt, fresh_until))

    # -- finishing ---------------------------------------------------------------------------------

    def _finish(self, done: Done) -> None:
        job_id = done.attempt.job.lease.job_id
        running = self._running.get(job_id)
        if running is None or running.attempt is not done.attempt:
            return  # already recorded as timed out, or released at shutdown
        del self._running[job_id]
        if done.cancelled and done.started:
            # However the handler ended (cancelled, returned at its poll, or raised), the operator's cancel stands.
            self._recorder.add(Cancelled(done.attempt.job.lease, done.finished))
        elif not done.started:
            log.info("Job %s: not started, its lease was no longer fresh (was this process paused?)", job_id)
            self._recorder.add(Released(done.attempt.job.lease))
        elif done.error is None:
            succeeded = Succeeded(done.attempt.job.lease, done.finished, done.result)
            self._recorder.attempt(done.attempt, done.finished, succeeded)
        else:
            options = self._tasks[done.attempt.job.task].options
            failed = self._failed(done.attempt, done.error, options, done.finished)
            self._recorder.attempt(done.attempt, done.finished, failed)

    def _expire_timeouts(self) -> None:
        """A ``def`` handler past its timeout cannot be killed: record the timeout and replace its thread."""
        now = self._clock()
        for job_id, running in list(self._running.items()):
            if running.deadline is None or running.deadline > now:
                continue
            del self._running[job_id]
            task = self._tasks[running.attempt.job.task]
            failed = self._failed(running.attempt, timed_out(task), task.options, now)
            self._recorder.attempt(running.attempt, now, failed)
            self._runners.replace(running.attempt.job.lease)

    def _failed(
        self, attempt: Attempt, error: BaseException, options: TaskOptions | None, now: float
    ) -> RetryLater | DeadLettered:
        return self._policy.outcome(attempt, error, options, now)

    def _count(self, outcome: Outcome, applied: bool) -> None:
        """Take note of an outcome the database applied (or fenced off: another worker had taken the job)."""
        if not applied:
            log.warning("Job %s: outcome not recorded, its lease was lost to another worker", outcome.lease.job_id)
            return
        match outcome:
            case Succeeded():
                self.summary.succeeded += 1
            case RetryLater(run_at=run_at):
                self.summary.retried += 1
                self._next_due = run_at if self._next_due is None else min(self._next_due, run_at)
                self._may_have_work = self._may_have_work or run_at <= self._clock()
            case DeadLettered(error=error):
                self.summary.dead += 1
                self._chores.due.set()  # its hooks are in the outbox now, committed
                log.warning(
                    "Job %s moved to DLQ after %d attempts: %s", outcome.lease.job_id, error.attempt, error.error_type
                )
            case Released():
                self.summary.released += 1
                self._may_have_work = True  # it is queued again
            case Cancelled():
                self.summary.cancelled += 1
                log.info("Job %s: cancelled while it ran", outcome.lease.job_id)

    def _cancel(self, leases: Sequence[Lease]) -> None:
        """Operators cancelled these running jobs (the heartbeat's thread saw it): stop their handlers."""
        for lease in leases:
            if self._runners.cancel(lease):
                log.info("Job %s: cancel asked, stopping its handler", lease.job_id)

    # -- work of vanished workers ------------------------------------------------------------------

    def _rescue_lost(self) -> None:
        """Every few seconds: the recovery queue, jobs that must run alone, and jobs whose worker vanished."""
        now = self._clock()
        if now < self._next_rescue:
            return
        self._next_rescue = now + min(RESCUE_EVERY, self._lease / 2)
        if self._rescue.recovery_queue(now):
            self._may_have_work = True
        if self._running and not self._alone_wanted:  # an idle worker looks for them when it claims
            self._alone_wanted = self._rescue.alone_due(self.queues, now)
        for outcome in self._rescue.lost_jobs(now):
            log.warning("Job %s: its worker was lost (lease expired)", outcome.lease.job_id)
            self.summary.rescued += 1
            self._count(outcome, True)
            self._alone_wanted = self._alone_wanted or isinstance(outcome, RetryLater)

    # -- stopping ----------------------------------------------------------------------------------

    def _drained_for_stop(self) -> bool:
        """Graceful stop: wait for running jobs up to the grace period, then release what still runs."""
        now = self._clock()
        if self._stop_deadline is None:
            self._stop_deadline = now + self.grace
        if self._running and now >= self._stop_deadline:
            log.warning("Grace period over: releasing %d running jobs", len(self._running))
            for running in self._running.values():
                self._recorder.add(Released(running.attempt.job.lease))
            self._running.clear()
        self._recorder.flush(force=True)
        return not self._running and not self._recorder.waiting
