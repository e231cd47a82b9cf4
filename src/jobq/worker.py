"""The worker: claim due jobs in batches, run them, record outcomes in groups, keep leases alive.

Threads, and what each owns:
- the loop (the caller's thread): records outcomes, claims and starts jobs, rescues lost leases;
- ``concurrency`` runner threads for ``def`` handlers, and one event loop thread for ``async def`` ones;
- a heartbeat thread that renews the leases of every held job, so a busy handler cannot starve it;
- a chores thread (``jobq.chores``) that delivers hooks, raises alerts and keeps the DLQ within its quota.

Outcomes are recorded in groups (one transaction for many jobs): a crash between running a job and
recording it makes the job run again after its lease expires — at-least-once, never lost.

An attempt is charged when its job is claimed, so a worker claims only the jobs it starts at once (as many
as it has free slots), in the same transaction that records what finished before them. When the process
dies, the jobs whose leases run out are exactly the ones that were running: only they are charged a
``WorkerLost`` attempt. A claimed job that could not start while its lease was fresh (the process was
paused) is never started: it is released, uncharged, or already belongs to another worker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import socket
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from jobq.chores import Chores
from jobq.errors import AlreadyReplayed, JobTimeout, NotFound, PayloadError, StorageError, UnknownTask, WorkerLost
from jobq.execution import Attempt, failure_outcome
from jobq.job import (
    ClaimedJob,
    DeadLettered,
    ExpiredLease,
    JobId,
    Lease,
    Outcome,
    Released,
    RetryLater,
    Succeeded,
    new_id,
)
from jobq.tally import Tally
from jobq.task import Task, TaskOptions

if TYPE_CHECKING:
    from jobq.app import App

log = logging.getLogger("jobq.worker")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
FLUSH_BATCH = 256  # outcomes recorded per transaction at most
FLUSH_AGE = 0.05  # seconds an outcome may wait to be grouped with others
RESCUE_EVERY = 5.0  # seconds between looks for lost leases (at most; shorter leases look more often)
STORAGE_RETRY = 0.5  # seconds to wait after the database refused a write
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

    @property
    def processed(self) -> int:
        """Attempts that ended (succeeded, retried or dead)."""
        return self.succeeded + self.retried + self.dead


@dataclass(slots=True)
class _Done:
    """A finished attempt, handed from a runner to the loop."""

    attempt: Attempt
    error: BaseException | None
    finished: float
    started: bool = True
    """False when the job was not started: its lease was no longer fresh (the process had been paused)."""


@dataclass(slots=True)
class _Running:
    attempt: Attempt
    deadline: float | None


@dataclass(frozen=True, slots=True)
class _Start:
    """A job handed to a runner, to start only while the lease taken with it is fresh."""

    attempt: Attempt
    fresh_until: float


_WAKE = object()


class Worker:
    """Runs jobs of an app until stopped, or until idle in burst mode."""

    def __init__(
        self,
        app: App,
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
        self._clock = app.clock
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._todo: queue.SimpleQueue[_Start | None] = queue.SimpleQueue()
        self._running: dict[JobId, _Running] = {}
        self._pending: list[Outcome] = []
        self._pending_since = 0.0
        self._alone_wanted = False  # a job that must run alone is due: claim nothing more until idle
        self._alone_unsure = False  # a claim beside running jobs came back short: look for one when idle
        self._unsynced_since: float | None = None  # the first write since the last durable one that did not wait
        self._held: dict[JobId, Lease] = {}
        self._held_lock = threading.Lock()
        self._stopping = threading.Event()
        self._halt = threading.Event()
        self._stop_deadline: float | None = None
        self._may_have_work = True
        self._next_due: float | None = None
        self._due_unknown = False
        self._next_rescue = 0.0
        self._runners = 0
        self._runners_lock = threading.Lock()
        self._timed_out: set[Lease] = set()  # attempts whose runner thread was replaced: it exits when done
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._tally = Tally()
        self._recovery = app.recovery.delays()
        self._chores = Chores(app)
        self.running = threading.Event()
        """Set once ``run`` has begun (and installed its signal handlers): a supervisor may signal it now."""
        self._async_slots: asyncio.Semaphore | None = None

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
        # A burst worker returns when idle, so it has no use for the watcher (nor its exit delay).
        helpers = [threading.Thread(target=self._heartbeat, name="jobq-heartbeat", daemon=True)]
        if not self.burst:
            helpers.append(threading.Thread(target=self._watch, name="jobq-watch", daemon=True))
        if self._chores.any:
            chores = threading.Thread(target=self._chores.run, args=(self._halt,), name="jobq-chores", daemon=True)
            helpers.append(chores)
        for thread in helpers:
            thread.start()
        log.info("Worker %s started (concurrency %d, queues %s)", self.id, self.concurrency, self._queue_names())
        try:
            self._loop_until_stopped()
        finally:
            remove_waker()
            self._halt.set()
            for _ in range(self._runners):
                self._todo.put(None)
            self._close_event_loop()
            self._chores.due.set()
            for thread in helpers:  # they use the app's connections, which the caller may close next
                thread.join(timeout=WATCH_SLICE + 1.0)
            if self.burst:
                self._chores.finish()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        log.info("Worker %s stopped: %s", self.id, self.summary)
        return self.summary

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
            self._rescue_lost()
            self._claim()
            self._look_ahead()
            self._flush(force=not self._running)
            if self.burst and self._idle():
                return

    def _idle(self) -> bool:
        if self._next_due is not None and self._next_due <= self._clock():
            self._came_due()  # our own writes do not show as "changed"
        return self._claim_mode() is None and not (self._running or self._pending)

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
        moments = [self._next_due, None if self.burst else self._next_rescue]
        if self._pending:
            moments.append(self._pending_since + FLUSH_AGE)
        if self._unsynced_since is not None:
            moments.append(self._unsynced_since + FLUSH_AGE)
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
            if isinstance(item, _Done):
                self._finish(item)
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                return

    def _watch(self) -> None:
        """A thread that waits for other processes' commits (NOTIFY, or SQLite's data_version) and wakes us."""
        while not self._halt.is_set():
            try:
                if self.app.backend.wait_for_change(WATCH_SLICE):
                    self.wake()
            except StorageError as exc:
                log.error("Could not watch for new jobs: %s", exc)
                self._halt.wait(STORAGE_RETRY)

    # -- claiming and running ----------------------------------------------------------------------

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

    def _claim(self) -> None:
        """Record what finished and claim a job for each free slot, in one transaction; then start them."""
        alone = self._claim_mode()
        if alone is None:
            return
        room = self.concurrency - len(self._running)
        now = self._clock()
        # Against a crash of this process a commit that does not wait for the disk is as good. One in every
        # FLUSH_AGE waits, syncing those before it, and carries the tally: what finished is on disk within
        # FLUSH_AGE, as when outcomes were only grouped.
        durable = self._unsynced_since is not None and now - self._unsynced_since >= FLUSH_AGE
        outcomes, self._pending = self._pending, []
        tally = self._tally.take() if durable else {}
        try:
            applied, claimed = self.app.backend.record_and_claim(
                outcomes, tally=tally, worker=self.id, queues=self.queues, limit=room, lease=self.app.lease, now=now,
                durable=durable, alone=alone,
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the outcomes are kept or settled one by one, never lost
            self._write_failed(outcomes, tally, exc, doing="claim jobs")
            return
        if durable:
            self._unsynced_since = None
        elif outcomes and self._unsynced_since is None:
            self._unsynced_since = now
        self._settled(outcomes, applied)
        self._hold(job.lease for job in claimed)
        self._after_claim(claimed, room=room, alone=alone)
        self._dispatch(claimed, fresh_until=now + self.app.lease * FRESH)

    def _after_claim(self, claimed: Sequence[ClaimedJob], *, room: int, alone: bool) -> None:
        got_alone = bool(claimed) and claimed[0].alone
        if alone:
            self._alone_wanted = False
            self._alone_unsure = got_alone  # there may be more of them
        if len(claimed) < room and not got_alone:
            self._may_have_work = False
            self._due_unknown = True  # looked up after dispatch: a round trip less before the job starts
            # Jobs that must run alone are not claimed beside others: look for one once this worker is idle.
            self._alone_unsure = self._alone_unsure or bool(self._running)

    def _look_ahead(self) -> None:
        """After a claim that emptied the queues: when does the next scheduled job come due?"""
        if not self._due_unknown:
            return
        try:
            dues = [self.app.backend.next_due(queue=name) for name in self.queues]
        except StorageError as exc:
            log.error("Could not look up the next due job: %s", exc)
            return
        known = [due for due in dues if due is not None]
        self._next_due, self._due_unknown = (min(known) if known else None), False

    def _dispatch(self, jobs: Sequence[ClaimedJob], *, fresh_until: float) -> None:
        for job in jobs:
            task = self.app.tasks.get(job.task)
            now = self._clock()
            attempt = Attempt(job, self.id, now)
            if task is None or job.unreadable:
                error = (
                    PayloadError(job.unreadable)
                    if job.unreadable
                    else UnknownTask(f"no task named {job.task!r} is registered in this worker")
                )
                self._record_attempt(attempt, now, self._failed(attempt, error, task.options if task else None, now))
                continue
            # An async handler's timeout is asyncio's to enforce (it cancels); a def handler's is ours to watch.
            timeout = None if task.is_async else task.options.timeout
            self._running[job.lease.job_id] = _Running(attempt, now + timeout if timeout else None)
            start = _Start(attempt, fresh_until)
            if task.is_async:
                self._start_async(task, start)
            else:
                self._ensure_runners()
                self._todo.put(start)

    def _ensure_runners(self) -> None:
        with self._runners_lock:
            while self._runners < self.concurrency:
                self._runners += 1
                threading.Thread(target=self._runner, name=f"jobq-runner-{self._runners}", daemon=True).start()

    def _runner(self) -> None:
        """A thread that runs ``def`` handlers until the worker stops (or it was replaced after a timeout)."""
        while (start := self._todo.get()) is not None:
            attempt = start.attempt
            task = self.app.tasks[attempt.job.task]
            error: BaseException | None = None
            if self._clock() >= start.fresh_until:
                self._events.put(_Done(attempt, None, self._clock(), started=False))
                continue
            try:
                args, kwargs = task.call_arguments(attempt.job.payload, self.dependencies)
                task.fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - a handler's failure is data, never the runner's death
                error = exc
            self._events.put(_Done(attempt, error, self._clock()))
            with self._runners_lock:
                if attempt.job.lease in self._timed_out:  # a spare took this thread's place meanwhile
                    self._timed_out.discard(attempt.job.lease)
                    self._runners -= 1
                    return

    def _start_async(self, task: Task[Any, Any], start: _Start) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(target=self._loop.run_forever, name="jobq-async", daemon=True)
            self._loop_thread.start()
        asyncio.run_coroutine_threadsafe(self._run_async(task, start), self._loop)

    def _close_event_loop(self) -> None:
        """Cancel what still runs on the event loop (released or abandoned jobs), then close it."""
        loop, thread = self._loop, self._loop_thread
        if loop is None or thread is None:
            return

        async def cancel_all() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await loop.shutdown_asyncgens()

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=self.grace + 5)
        except (TimeoutError, RuntimeError) as exc:
            log.warning("Async jobs did not stop when cancelled: %r", exc)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()

    async def _run_async(self, task: Task[Any, Any], start: _Start) -> None:
        attempt = start.attempt
        if self._clock() >= start.fresh_until:
            self._events.put(_Done(attempt, None, self._clock(), started=False))
            return
        error: BaseException | None = None
        deadline = asyncio.timeout(task.options.timeout)
        try:
            args, kwargs = task.call_arguments(attempt.job.payload, self.dependencies)
            async with deadline:
                await task.fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - a handler's failure is data, never the runner's death
            # Only our own deadline is a JobTimeout; a TimeoutError the handler raised is its own failure.
            error = _timed_out(task) if deadline.expired() else exc
        self._events.put(_Done(attempt, error, self._clock()))

    def _finish(self, done: _Done) -> None:
        job_id = done.attempt.job.lease.job_id
        running = self._running.get(job_id)
        if running is None or running.attempt is not done.attempt:
            return  # already recorded as timed out, or released at shutdown
        del self._running[job_id]
        if not done.started:
            log.info("Job %s: not started, its lease was no longer fresh (was this process paused?)", job_id)
            self._record(Released(done.attempt.job.lease))
        elif done.error is None:
            self._record_attempt(done.attempt, done.finished, Succeeded(done.attempt.job.lease, done.finished))
        else:
            options = self.app.tasks[done.attempt.job.task].options
            failed = self._failed(done.attempt, done.error, options, done.finished)
            self._record_attempt(done.attempt, done.finished, failed)

    def _expire_timeouts(self) -> None:
        """A ``def`` handler past its timeout cannot be killed: record the timeout and replace its thread."""
        now = self._clock()
        for job_id, running in list(self._running.items()):
            if running.deadline is None or running.deadline > now:
                continue
            del self._running[job_id]
            task = self.app.tasks[running.attempt.job.task]
            error = _timed_out(task)
            self._record_attempt(running.attempt, now, self._failed(running.attempt, error, task.options, now))
            with self._runners_lock:
                self._timed_out.add(running.attempt.job.lease)
                self._runners += 1
            threading.Thread(target=self._runner, name="jobq-runner-spare", daemon=True).start()

    def _failed(
        self,
        attempt: Attempt,
        error: BaseException,
        options: TaskOptions | None,
        now: float,
        *,
        expired_at: float | None = None,
    ) -> RetryLater | DeadLettered:
        return failure_outcome(
            attempt, error, options=options, classifier=self.app.classifier, now=now, expired_at=expired_at,
            recovery=self._recovery, with_hooks=self._chores.hooks is not None,
            redactor=self.app.redactor if self.app.redact_at_rest else None,
        )  # fmt: skip

    # -- recording ---------------------------------------------------------------------------------

    def _record_attempt(self, attempt: Attempt, finished: float, outcome: Outcome) -> None:
        """Record how an attempt ended, and tally it (an attempt that ran counts, even if fenced off later)."""
        _tally_attempt(self._tally, attempt.job.queue, outcome)
        self._tally.observe("job_duration_seconds", attempt.job.queue, finished - attempt.started)
        self._tally.observe("queue_wait_seconds", attempt.job.queue, attempt.started - attempt.job.run_at)
        self._record(outcome)

    def _record(self, outcome: Outcome) -> None:
        if not self._pending:
            self._pending_since = self._clock()
        self._pending.append(outcome)
        if len(self._pending) >= FLUSH_BATCH:
            self._flush(force=True)

    def _flush(self, *, force: bool = False) -> None:
        """Record pending outcomes (and sync earlier writes) in one durable transaction."""
        now = self._clock()
        due = self._pending and (force or now - self._pending_since >= FLUSH_AGE)
        unsynced = self._unsynced_since is not None and (force or now - self._unsynced_since >= FLUSH_AGE)
        if not (due or unsynced):
            return
        outcomes, self._pending = self._pending, []
        tally = self._tally.take()
        try:
            applied = self.app.backend.record(outcomes, tally=tally)
        except Exception as exc:  # noqa: BLE001 - the outcomes are kept or settled one by one, never lost
            self._write_failed(outcomes, tally, exc, doing=f"record {len(outcomes)} outcomes")
            return
        self._unsynced_since = None
        self._settled(outcomes, applied)

    def _write_failed(self, outcomes: list[Outcome], tally: dict[Any, float], exc: Exception, *, doing: str) -> None:
        """A write of outcomes failed: record them one by one, so that one that cannot be stored loses no other.

        A refused write (locked, full, gone) is tried again later; an outcome that cannot be written at all
        (a value the driver rejects) is given up to the rescue: its lease runs out and another worker records
        the attempt as lost. Nothing is lost either way.
        """
        self._tally.add(tally)
        if not outcomes or (isinstance(exc, StorageError) and len(outcomes) == 1):
            log.error("Could not %s, will retry: %s", doing, exc)
            self._pending = outcomes + self._pending
            self._halt.wait(STORAGE_RETRY)
            return
        for number, outcome in enumerate(outcomes):
            try:
                applied = self.app.backend.record([outcome])
            except StorageError as error:  # the database, not this outcome: keep the rest for later
                log.error("Could not %s, will retry: %s", doing, error)
                self._pending = outcomes[number:] + self._pending
                self._halt.wait(STORAGE_RETRY)
                return
            except Exception:  # one outcome's bad value must not stop the worker
                log.exception("Job %s: its outcome cannot be stored; its lease will run out", outcome.lease.job_id)
                self._release_holds([outcome.lease])
                continue
            self._settled([outcome], applied)

    def _settled(self, outcomes: Sequence[Outcome], applied: Sequence[bool]) -> None:
        self._release_holds(outcome.lease for outcome in outcomes)
        for outcome, ok in zip(outcomes, applied, strict=True):
            self._count(outcome, ok)

    def _count(self, outcome: Outcome, applied: bool) -> None:
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

    # -- leases ------------------------------------------------------------------------------------

    def _hold(self, leases: Any) -> None:
        with self._held_lock:
            for lease in leases:
                self._held[lease.job_id] = lease

    def _release_holds(self, leases: Any) -> None:
        with self._held_lock:
            for lease in leases:
                self._held.pop(lease.job_id, None)

    def _heartbeat(self) -> None:
        """Renew held leases every third of the lease, in a thread of its own."""
        interval = self.app.lease / 3
        while not self._halt.wait(interval):
            with self._held_lock:
                leases = list(self._held.values())
            if not leases:
                continue
            try:
                lost = self.app.backend.extend(leases, until=self._clock() + self.app.lease)
            except StorageError as exc:
                log.error("Could not renew %d leases: %s", len(leases), exc)
                continue
            for lease in lost:
                log.warning("Job %s: lease lost (another worker took it over)", lease.job_id)

    def _rescue_lost(self) -> None:
        """Jobs whose worker vanished: record a WorkerLost attempt, then retry or dead-letter them."""
        now = self._clock()
        if now < self._next_rescue:
            return
        self._next_rescue = now + min(RESCUE_EVERY, self.app.lease / 2)
        self._recover_due(now)
        self._look_for_alone(now)
        try:
            expired = self.app.backend.expired(now=now, limit=FLUSH_BATCH)
            outcomes = [self._lost_outcome(lease, now) for lease in expired]
            tally = Tally()
            for lease, outcome in zip(expired, outcomes, strict=True):
                _tally_attempt(tally, lease.queue, outcome)
            applied = self.app.backend.record(outcomes, tally=tally.take()) if outcomes else []
        except StorageError as exc:
            log.error("Could not rescue lost jobs: %s", exc)
            return
        except Exception:  # found again at the next look; the loop goes on
            log.exception("Could not rescue lost jobs")
            return
        for outcome, ok in zip(outcomes, applied, strict=True):
            if ok:  # a rescue that lost the race to the live owner is not news
                log.warning("Job %s: its worker was lost (lease expired)", outcome.lease.job_id)
                self.summary.rescued += 1
                self._count(outcome, ok)
                self._alone_wanted = self._alone_wanted or isinstance(outcome, RetryLater)

    def _look_for_alone(self, now: float) -> None:
        """Is a job that must run alone due? Then this worker makes room for it (another may take it first)."""
        if self._alone_wanted or not self._running:
            return  # an idle worker looks when it claims
        try:
            self._alone_wanted = self.app.backend.alone_due(queues=self.queues, now=now)
        except StorageError as exc:
            log.error("Could not look for jobs that must run alone: %s", exc)

    def _recover_due(self, now: float) -> None:
        """The recovery queue: replay dead letters whose cool-down has passed (any worker may; one wins each)."""
        try:
            due = self.app.backend.due_for_recovery(now=now, limit=FLUSH_BATCH)
        except StorageError as exc:
            log.error("Could not look at the recovery queue: %s", exc)
            return
        for dead_letter_id in due:
            try:
                job_id = self.app.dlq.replay(dead_letter_id, by="recovery queue")
            except (AlreadyReplayed, NotFound):
                continue  # another worker got there first, or an operator acted
            except StorageError as exc:
                log.error("Could not replay dead letter %s from the recovery queue: %s", dead_letter_id, exc)
                return
            self._may_have_work = True
            log.info("Dead letter %s replayed by the recovery queue as job %s", dead_letter_id, job_id)

    def _lost_outcome(self, expired: ExpiredLease, now: float) -> RetryLater | DeadLettered:
        job = ClaimedJob(expired.lease, expired.task, expired.queue, {}, expired.attempts, expired.max_attempts)
        attempt = Attempt(job, expired.worker or "unknown", expired.started_at or now)
        error = WorkerLost(f"worker {expired.worker} stopped renewing the lease of attempt {expired.attempts}")
        task = self.app.tasks.get(expired.task)
        options = task.options if task is not None else None
        return self._failed(attempt, error, options, now, expired_at=now)

    # -- stopping ----------------------------------------------------------------------------------

    def _drained_for_stop(self) -> bool:
        """Graceful stop: wait for running jobs up to the grace period, then release what still runs."""
        now = self._clock()
        if self._stop_deadline is None:
            self._stop_deadline = now + self.grace
        if self._running and now >= self._stop_deadline:
            log.warning("Grace period over: releasing %d running jobs", len(self._running))
            for running in self._running.values():
                self._record(Released(running.attempt.job.lease))
            self._running.clear()
        self._flush(force=True)
        return not self._running and not self._pending


def _timed_out(task: Task[Any, Any]) -> JobTimeout:
    return JobTimeout(f"{task.name} took longer than its timeout of {task.options.timeout} s")


def _tally_attempt(tally: Tally, queue: str, outcome: Outcome) -> None:
    tally.count("processed", queue)
    if isinstance(outcome, Succeeded):
        tally.count("succeeded", queue)
        return
    tally.count("failed", queue)
    if isinstance(outcome, DeadLettered):
        tally.count("dead_lettered", queue)
