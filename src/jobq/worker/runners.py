"""The threads that run handlers: a pool of threads for ``def`` handlers and one event loop for ``async`` ones.

A handler starts only while the lease its job was claimed with is fresh; how it ended goes back to the loop
as a ``Done`` on the events queue. Nothing a handler raises reaches further than that.

A job an operator cancelled (``cancel``): an ``async`` handler's task is cancelled, a ``def`` handler sees
``jobq.current_job().cancelled``; either way its ``Done`` says ``cancelled``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jobq.current import CurrentJob, running
from jobq.errors import JobTimeout, PayloadError
from jobq.job import Lease
from jobq.payload import encode_result
from jobq.task import Task
from jobq.worker.failure import Attempt

log = logging.getLogger("jobq.worker")


@dataclass(slots=True)
class Done:
    """A finished attempt, handed from a runner to the loop."""

    attempt: Attempt
    error: BaseException | None
    finished: float
    started: bool = True
    """False when the job was not started: its lease was no longer fresh (the process had been paused)."""
    cancelled: bool = False
    """An operator cancelled the job before or while its handler ran."""
    result: str | None = None
    """What the handler returned, as JSON text (None: it returned None, or a value that is not JSON)."""


@dataclass(frozen=True, slots=True)
class Start:
    """A job handed to a runner, to start only while the lease taken with it is fresh."""

    attempt: Attempt
    fresh_until: float
    current: CurrentJob


def kept_result(attempt: Attempt, value: object) -> str | None:
    """The return value as JSON text to store. One that is not JSON is not kept, and the job still succeeds:
    its work is done, and running it again for a return value nobody may read would repeat that work."""
    try:
        return encode_result(value)
    except PayloadError as exc:
        log.warning("Job %s: %s; not kept", attempt.job.lease.job_id, exc)
        return None


def timed_out(task: Task[Any, Any]) -> JobTimeout:
    """The failure recorded for an attempt that outlived its task's timeout."""
    return JobTimeout(f"{task.name} took longer than its timeout of {task.options.timeout} s")


class Runners:
    """Runs handlers; ``events`` receives a ``Done`` for every job handed over."""

    def __init__(
        self,
        tasks: Mapping[str, Task[Any, Any]],
        *,
        concurrency: int,
        dependencies: Mapping[str, Any],
        events: queue.SimpleQueue[Any],
        clock: Callable[[], float],
    ) -> None:
        self._tasks = tasks
        self._concurrency = concurrency
        self._dependencies = dependencies
        self._events = events
        self._clock = clock
        self._todo: queue.SimpleQueue[Start | None] = queue.SimpleQueue()
        self._threads = 0
        self._lock = threading.Lock()
        self._timed_out: set[Lease] = set()  # attempts whose thread was replaced: it exits when its handler does
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._handed: dict[Lease, CurrentJob] = {}  # jobs handed over and not done: what a cancel reaches
        self._tasks_running: dict[Lease, asyncio.Task[None]] = {}  # async handlers running, to cancel

    def hand_over(self, attempt: Attempt, fresh_until: float) -> Start:
        """A job to start, with the ``jobq.current_job()`` its handler will see."""
        job = attempt.job
        current = CurrentJob(job.lease.job_id, job.task, job.attempts, job)
        with self._lock:
            self._handed[job.lease] = current
        return Start(attempt, fresh_until, current)

    def cancel(self, lease: Lease) -> bool:
        """Stop a job's handler: cancel an ``async`` one, flag a ``def`` one. False when it is not running here."""
        with self._lock:
            current = self._handed.get(lease)
            task = self._tasks_running.get(lease)
        if current is None or current.cancelled:
            return False
        current.ask_to_stop()
        if task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(task.cancel)
        return True

    def _done(self, start: Start, error: BaseException | None, value: object) -> Done:
        with self._lock:
            self._handed.pop(start.attempt.job.lease, None)
        result = kept_result(start.attempt, value) if error is None else None
        return Done(start.attempt, error, self._clock(), cancelled=start.current.cancelled, result=result)

    def start(self, task: Task[Any, Any], start: Start) -> None:
        """Run the job's handler: on the event loop if it is ``async``, else on a thread of the pool."""
        if task.is_async:
            self._start_async(task, start)
            return
        with self._lock:
            while self._threads < self._concurrency:
                self._threads += 1
                threading.Thread(target=self._run_threaded, name=f"jobq-runner-{self._threads}", daemon=True).start()
        self._todo.put(start)

    def replace(self, lease: Lease) -> None:
        """A ``def`` handler past its timeout cannot be killed: a spare thread takes its place in the pool."""
        with self._lock:
            self._timed_out.add(lease)
            self._threads += 1
        threading.Thread(target=self._run_threaded, name="jobq-runner-spare", daemon=True).start()

    def close(self, *, grace: float) -> None:
        """Let the pool's threads end, and cancel what still runs on the event loop."""
        for _ in range(self._threads):
            self._todo.put(None)
        self._close_event_loop(grace)

    def _fresh(self, start: Start) -> bool:
        if self._clock() < start.fresh_until:
            return True
        with self._lock:
            self._handed.pop(start.attempt.job.lease, None)
        self._events.put(Done(start.attempt, None, self._clock(), started=False))
        return False

    def _run_threaded(self) -> None:
        """A thread that runs ``def`` handlers until the worker stops (or it was replaced after a timeout)."""
        while (start := self._todo.get()) is not None:
            if not self._fresh(start):
                continue
            attempt = start.attempt
            task = self._tasks[attempt.job.task]
            error: BaseException | None = None
            value: object = None
            running(start.current)
            try:
                if not start.current.cancelled:  # cancelled while it waited for this thread
                    args, kwargs = task.call_arguments(attempt.job.payload, self._dependencies)
                    value = task.fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - a handler's failure is data, never the runner's death
                error = exc
            finally:
                running(None)
            self._events.put(self._done(start, error, value))
            with self._lock:
                if attempt.job.lease in self._timed_out:  # a spare took this thread's place meanwhile
                    self._timed_out.discard(attempt.job.lease)
                    self._threads -= 1
                    return

    def _start_async(self, task: Task[Any, Any], start: Start) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(target=self._loop.run_forever, name="jobq-async", daemon=True)
            self._loop_thread.start()
        asyncio.run_coroutine_threadsafe(self._run_async(task, start), self._loop)

    async def _run_async(self, task: Task[Any, Any], start: Start) -> None:
        if not self._fresh(start):
            return
        attempt, lease = start.attempt, start.attempt.job.lease
        error: BaseException | None = None
        value: object = None
        deadline = asyncio.timeout(task.options.timeout)
        running(start.current)  # this task's own context: other jobs on the loop do not see it
        with self._lock:
            this = asyncio.current_task()
            if this is not None:
                self._tasks_running[lease] = this
        try:
            if not start.current.cancelled:  # cancelled before it started
                args, kwargs = task.call_arguments(attempt.job.payload, self._dependencies)
                async with deadline:
                    value = await task.fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - a handler's failure is data, never the runner's death
            # Only our own deadline is a JobTimeout; a TimeoutError the handler raised is its own failure.
            error = timed_out(task) if deadline.expired() else exc
        finally:
            with self._lock:
                self._tasks_running.pop(lease, None)
        self._events.put(self._done(start, error, value))

    def _close_event_loop(self, grace: float) -> None:
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
            asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(timeout=grace + 5)
        except (TimeoutError, RuntimeError) as exc:
            log.warning("Async jobs did not stop when cancelled: %r", exc)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        if not thread.is_alive():
            loop.close()
