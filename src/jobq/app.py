"""App: the composition root. It opens the backend from a URL, owns the task registry and the API."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypedDict, TypeVar, Unpack, overload

from jobq.alerting import Alerting
from jobq.backends import DEFAULT_URL, open_backend
from jobq.backends.contract import Backend, JobFilter
from jobq.classify import Classifier, Policy
from jobq.clock import Clock, system_clock, to_datetime
from jobq.control import CancelCount, Controls
from jobq.dlq import DeadLetterQueue
from jobq.enqueue_options import Delay, check_names, check_numbers, due_time
from jobq.errors import JobqError
from jobq.hooks import Hooks
from jobq.job import Job, JobId, JobStatus, NewJob, PausedQueue, new_ids
from jobq.offload import Offload, default_threads
from jobq.payload import encode as encode_payload
from jobq.periodic import Missed, PeriodicStatus, Schedule, new_schedule, statuses
from jobq.quota import Quota
from jobq.recovery import RecoveryPolicy
from jobq.redact import Redactor
from jobq.retry import Backoff, as_backoff
from jobq.stats import Alert, Thresholds, crossed, hook_stats, new_fingerprint_alert, queue_stats
from jobq.tally import Metrics, read_back
from jobq.task import ExceptionTypes, Task, TaskOptions

if TYPE_CHECKING:
    from datetime import tzinfo

    from jobq.worker import WorkerSummary

P = ParamSpec("P")
R = TypeVar("R")


class EnqueueOptions(TypedDict, total=False):
    """The options of ``App.enqueue`` that ``enqueue_async`` passes on (a caller's own connection excepted: it
    belongs to the caller's thread)."""

    args: Sequence[Any]
    queue: str | None
    tenant: str | None
    key: str | None
    delay: Delay
    run_at: datetime | None
    priority: int | None
    unique_key: str | None
    max_attempts: int | None


class App:
    """A job queue: tasks registered on it, jobs stored at ``url``.

    >>> app = jobq.App("sqlite:///jobq.db")
    >>> @app.task(max_attempts=5)
    ... def send_sms(to: str, body: str) -> None: ...
    >>> send_sms.enqueue(to="+15550100", body="hi", _tenant="acme")
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        lease: float = 30.0,
        durability: Literal["full", "normal"] = "full",
        busy_timeout: float = 5.0,
        dependencies: Mapping[str, Any] | None = None,
        policy: Policy | Mapping[str, Any] | None = None,
        recovery: RecoveryPolicy | None = None,
        hooks: Hooks | None = None,
        redactor: Redactor | None = None,
        redact_at_rest: bool = False,
        alerting: Alerting | None = None,
        quota: Quota | None = None,
        clock: Clock = system_clock,
        async_threads: int | None = None,
    ) -> None:
        if lease <= 0:
            raise ValueError(f"lease must be a positive number of seconds, not {lease!r}")
        self.url = url or os.environ.get("JOBQ_URL") or DEFAULT_URL
        self.lease = lease
        self.clock = clock
        self.recovery = recovery or RecoveryPolicy()
        self.hooks = hooks
        self.redactor = redactor if redactor is not None else Redactor()
        """What CLI output and exports pass through (hooks have their own, ``Hooks(redactor=...)``)."""
        self.redact_at_rest = redact_at_rest
        """Redact error messages and tracebacks with ``redactor`` before they are stored."""
        self.alerting = alerting or Alerting()
        """Thresholds for ``alerts()``, and how workers with hooks raise alerts by themselves."""
        self.quota = quota
        """The DLQ's bound, kept by the workers (None: the DLQ is never pruned implicitly)."""
        self.dependencies: dict[str, Any] = dict(dependencies or {})
        self.classifier = Classifier(Policy.from_dict(policy) if isinstance(policy, Mapping) else policy)
        self.tasks: dict[str, Task[Any, Any]] = {}
        self.schedules: dict[str, Schedule] = {}
        """Periodic schedules by name (``@app.periodic``); every worker of this app enqueues their ticks."""
        self.offload = Offload(async_threads or default_threads(self.url))
        """The threads the ``*_async`` calls run on, so an event loop never waits: ``async_threads`` of them (by
        default 1 on SQLite, which writes one at a time, and 4 on PostgreSQL: see ``jobq.offload``)."""
        self.dlq = DeadLetterQueue(lambda: self.backend, clock=clock, wake=self._wake_workers, offload=self.offload)
        self._backend_options = {"durability": durability, "busy_timeout": busy_timeout}
        self._backend: Backend | None = None
        self._backend_lock = threading.Lock()
        self._wakers: list[Callable[[], None]] = []
        self._controls = Controls(
            lambda: self.backend, clock=clock, wake=self._wake_workers,
            queues=lambda: {task.options.queue for task in self.tasks.values()},
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"<jobq.App {self.url}>"

    # -- storage -----------------------------------------------------------------------------------

    @property
    def backend(self) -> Backend:
        """The storage, opened and migrated on first use (importing an app never touches the database)."""
        if self._backend is None:
            with self._backend_lock:
                if self._backend is None:
                    backend = open_backend(self.url, **self._backend_options)
                    backend.migrate()
                    self._backend = backend
        return self._backend

    def migrate(self) -> int:
        """Create or upgrade the schema now; returns its version."""
        return self.backend.migrate()

    def close(self) -> None:
        """Close the database connections (after the ``*_async`` calls under way)."""
        self.offload.close()
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- tasks -------------------------------------------------------------------------------------

    @overload
    def task(self, fn: Callable[P, R], /) -> Task[P, R]: ...

    @overload
    def task(
        self,
        *,
        name: str | None = None,
        queue: str = "default",
        max_attempts: int = 3,
        backoff: Backoff | Callable[[int], float] | float | None = None,
        timeout: float | None = None,
        priority: int = 0,
        retry_on: ExceptionTypes = (),
        dead_on: ExceptionTypes = (),
    ) -> Callable[[Callable[P, R]], Task[P, R]]: ...

    def task(  # type: ignore[misc]  # mypy cannot match a ParamSpec'd overload to the bare-or-called form
        self,
        fn: Callable[P, R] | None = None,
        /,
        *,
        name: str | None = None,
        queue: str = "default",
        max_attempts: int = 3,
        backoff: Backoff | Callable[[int], float] | float | None = None,
        timeout: float | None = None,
        priority: int = 0,
        retry_on: ExceptionTypes = (),
        dead_on: ExceptionTypes = (),
    ) -> Task[P, R] | Callable[[Callable[P, R]], Task[P, R]]:
        """Register a function (``def`` or ``async def``) as a task; usable bare or with options."""
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, not {max_attempts!r}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        options = TaskOptions(
            queue=queue, max_attempts=max_attempts, backoff=as_backoff(backoff), timeout=timeout,
            priority=priority, retry_on=tuple(retry_on), dead_on=tuple(dead_on),
        )  # fmt: skip

        def register(function: Callable[P, R]) -> Task[P, R]:
            task_name = name or f"{function.__module__}.{function.__qualname__}"
            if task_name in self.tasks and self.tasks[task_name].fn is not function:
                raise JobqError(f"a different function is already registered as task {task_name!r}")
            task = Task(self, function, task_name, options)
            self.tasks[task_name] = task
            return task

        return register if fn is None else register(fn)

    def periodic(
        self,
        schedule: str | timedelta,
        *,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
        tz: str | tzinfo | None = None,
        name: str | None = None,
        missed: Missed = "latest",
    ) -> Callable[[Task[P, R]], Task[P, R]]:
        """Run a task by itself on a schedule: a cron expression (in ``tz``, UTC by default) or a ``timedelta``.

        Stack it above ``@app.task``. Each tick is enqueued once, whatever the number of workers; ticks missed
        while no worker ran: the latest is enqueued (``missed="latest"``) or none (``missed="skip"``).
        ``name`` tells two schedules of one task apart (default: the task's name).
        """

        def register(task: Task[P, R]) -> Task[P, R]:
            if not isinstance(task, Task):
                raise TypeError("@app.periodic goes above @app.task: it schedules a task, not a plain function")
            checked = new_schedule(schedule, task=task.name, name=name, args=args, kwargs=kwargs, tz=tz, missed=missed)
            if checked.name in self.schedules:
                raise JobqError(f"a periodic schedule named {checked.name!r} exists: pass name= to tell them apart")
            self._new_jobs(task.name, [(checked.args, checked.kwargs)])  # bad arguments fail here, not at a tick
            self.schedules[checked.name] = checked
            return task

        return register

    # -- producing ---------------------------------------------------------------------------------

    def enqueue(
        self,
        task: str,
        kwargs: Mapping[str, Any] | None = None,
        *,
        args: Sequence[Any] = (),
        queue: str | None = None,
        tenant: str | None = None,
        key: str | None = None,
        delay: Delay = None,
        run_at: datetime | None = None,
        priority: int | None = None,
        unique_key: str | None = None,
        max_attempts: int | None = None,
        connection: Any = None,
        job_id: str | None = None,
    ) -> JobId:
        """Queue one call of ``task`` (by name); returns the job id.

        ``connection``: your own psycopg connection, inside a transaction (PostgreSQL only): the job then
        exists if and only if that transaction commits. ``job_id``: the id to give the job, made beforehand with
        ``jobq.job.new_id()`` (default: a new one), for a caller that must name the job before it enqueues it
        (Django's backend, enqueueing once the caller's transaction commits).
        """
        jobs = self._new_jobs(
            task, [(args, kwargs or {})], queue=queue, tenant=tenant, key=key, delay=delay, run_at=run_at,
            priority=priority, unique_key=unique_key, max_attempts=max_attempts, job_id=job_id,
        )  # fmt: skip
        (job_id,) = self.backend.enqueue(jobs, connection=connection)
        self._wake_workers()
        return job_id

    async def enqueue_async(
        self, task: str, kwargs: Mapping[str, Any] | None = None, **options: Unpack[EnqueueOptions]
    ) -> JobId:
        """``enqueue`` for coroutines, with its options: the same call on ``offload``'s threads, so the event loop
        never waits.

        >>> job_id = await app.enqueue_async("send_sms", {"to": "+15550100", "body": "hi"}, tenant="acme")
        """
        return await self.offload(self.enqueue, task, kwargs, **options)

    def enqueue_many(
        self,
        task: str,
        calls: Iterable[Mapping[str, Any]],
        *,
        tenant: str | None = None,
        delay: Delay = None,
        priority: int | None = None,
        queue: str | None = None,
    ) -> list[JobId]:
        """Queue many calls of ``task`` (each a mapping of keyword arguments) in one transaction."""
        jobs = self._new_jobs(
            task, (((), call) for call in calls), queue=queue, tenant=tenant, delay=delay, priority=priority
        )
        ids = self.backend.enqueue(jobs) if jobs else []
        self._wake_workers()
        return ids

    def _new_jobs(
        self,
        task_name: str,
        calls: Iterable[tuple[Sequence[Any], Mapping[str, Any]]],
        *,
        queue: str | None = None,
        tenant: str | None = None,
        key: str | None = None,
        delay: Delay = None,
        run_at: datetime | None = None,
        priority: int | None = None,
        unique_key: str | None = None,
        max_attempts: int | None = None,
        job_id: str | None = None,
    ) -> list[NewJob]:
        """Validated jobs for calls of one task; what they share is worked out once, not per job."""
        task = self.tasks.get(task_name)
        options = task.options if task is not None else None
        now = self.clock()
        due = due_time(now, delay, run_at)
        check_names(queue=queue, tenant=tenant, key=key, unique_key=unique_key)
        queue = queue or (options.queue if options else "default")
        max_attempts = max_attempts or (options.max_attempts if options else None)
        priority = priority if priority is not None else (options.priority if options else 0)
        check_numbers(priority=priority, max_attempts=max_attempts)
        calls = list(calls)
        if job_id is not None and len(calls) != 1:
            raise JobqError("job_id names one job: enqueue one call with it")
        ids = [job_id] if job_id is not None else new_ids(len(calls))
        jobs = []
        for new, (args, kwargs) in zip(ids, calls, strict=True):
            payload, text = encode_payload(args, kwargs)
            if task is not None:
                task.check_arguments(args, kwargs, at_enqueue=True)
            jobs.append(NewJob(
                id=JobId(new), task=task_name, queue=queue, payload=payload, max_attempts=max_attempts,
                run_at=due, created_at=now, priority=priority, tenant=tenant, key=key, unique_key=unique_key,
                payload_text=text,
            ))  # fmt: skip
        return jobs

    def _wake_workers(self) -> None:
        for wake in self._wakers:
            wake()

    def add_waker(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` after every enqueue from this process; returns the function that unregisters it."""
        self._wakers.append(wake)
        return lambda: self._wakers.remove(wake)

    # -- reading -----------------------------------------------------------------------------------

    def get_job(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        return self.backend.get_job(JobId(job_id))

    async def get_job_async(self, job_id: str) -> Job | None:
        """``get_job`` for coroutines, on ``offload``'s threads."""
        return await self.offload(self.get_job, job_id)

    def list_jobs(
        self,
        *,
        status: JobStatus | None = None,
        queue: str | None = None,
        task: str | None = None,
        tenant: str | None = None,
        key: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> list[Job]:
        """Jobs newest first; pass the last id as ``cursor`` for the next page."""
        where = JobFilter(status=status, queue=queue, task=task, tenant=tenant, key=key)
        return self.backend.list_jobs(where, limit=limit, cursor=None if cursor is None else JobId(cursor))

    def counts(self) -> dict[str, dict[str, int]]:
        """Jobs by queue and state: ``{queue: {queued, scheduled, running, succeeded, dead, cancelled}}``.

        One grouped query and nothing else (no DLQ summary, no hook counts): cheap enough for an autoscaler
        or a health check to poll. ``scheduled`` counts queued jobs not due yet.
        """
        return queue_stats(self.backend, now=self.clock())

    def stats(self) -> dict[str, Any]:
        """Counts of the queue and the DLQ, in the shape of SPEC section 3, hook deliveries by state, and the
        names of the paused queues (``paused``)."""
        paused = sorted(pause.queue for pause in self.paused_queues())
        return {**self.dlq.stats(), "queues": self.counts(), "hooks": hook_stats(self.backend.outbox_counts()),
                "paused": paused}  # fmt: skip

    def metrics(self) -> Metrics:
        """Every worker's counters (processed, succeeded, failed, dead_lettered, replayed) and histograms
        (job_duration_seconds, queue_wait_seconds), by queue, as kept in the database."""
        return read_back(self.backend.read_tally())

    def alerts(self, thresholds: Thresholds | None = None) -> list[Alert]:
        """The alert thresholds crossed now (by default ``alerting.thresholds``: last_24h > 10, avg_retries > 2.5,
        pending_recovery > 5), and failures first seen within the last hour (``new_fingerprint``)."""
        thresholds = thresholds or self.alerting.thresholds
        alerts = crossed(self.dlq.stats(), thresholds)
        if thresholds.new_fingerprint_window > 0:
            since = self.clock() - thresholds.new_fingerprint_window
            alerts += new_fingerprint_alert(self.backend.new_fingerprints(since=since))
        return alerts

    def clear(self, statuses: Sequence[JobStatus], *, older_than: timedelta | None = None) -> int:
        """Delete jobs in these states (``succeeded``, ``dead``, ``queued``), finished before ``older_than`` ago.

        Running jobs cannot be cleared: their workers would still report on them. Dead letters stay in the DLQ.
        """
        allowed = {"succeeded", "dead", "queued"}
        if not statuses or not set(statuses) <= allowed:
            raise ValueError(f"clear takes statuses among {', '.join(sorted(allowed))}, not {list(statuses)!r}")
        before = self.clock() - older_than.total_seconds() if older_than is not None else None
        return self.backend.delete_jobs(statuses, finished_before=before)

    def periodic_status(self) -> list[PeriodicStatus]:
        """Each periodic schedule with its last run (as recorded in the database) and its next."""
        last = self.backend.last_ticks() if self.schedules else {}
        return statuses(list(self.schedules.values()), last, now=self.clock())

    def tick_job(self, schedule: Schedule, tick: float) -> NewJob:
        """The job of one tick of a schedule, due at the tick."""
        (job,) = self._new_jobs(schedule.task, [(schedule.args, schedule.kwargs)], run_at=to_datetime(tick))
        return job

    # -- controlling -------------------------------------------------------------------------------

    def cancel(self, job_id: str, *, by: str | None = None) -> bool:
        """Cancel a job: a queued one at once (state ``cancelled``), a running one is asked to stop (an ``async``
        handler is cancelled, a ``def`` one sees ``jobq.current_job().cancelled``). True when either happened,
        False when the job had finished; NotFound for an unknown id. Written to the audit log."""
        return self._controls.cancel(job_id, by=by)

    def cancel_many(
        self,
        *,
        task: str | None = None,
        queue: str | None = None,
        tenant: str | None = None,
        key: str | None = None,
        by: str | None = None,
    ) -> CancelCount:
        """Cancel every job that matches (queued: at once; running: asked to stop); at least one filter."""
        return self._controls.cancel_many(task=task, queue=queue, tenant=tenant, key=key, by=by)

    def pause(self, queue: str, *, by: str | None = None) -> bool:
        """Stop every worker claiming from ``queue`` (running jobs finish); False when paused already."""
        return self._controls.pause(queue, by=by)

    def resume(self, queue: str) -> bool:
        """Let workers claim from ``queue`` again; False when it was not paused."""
        return self._controls.resume(queue)

    def paused_queues(self) -> list[PausedQueue]:
        """The queues paused now, with when and by whom."""
        return self._controls.paused()

    # -- working -----------------------------------------------------------------------------------

    def run_worker(
        self,
        *,
        concurrency: int = 4,
        queues: Sequence[str] | None = None,
        burst: bool = False,
        dependencies: Mapping[str, Any] | None = None,
        grace: float = 30.0,
        install_signal_handlers: bool = True,
    ) -> WorkerSummary:
        """Run a worker in this thread until stopped (SIGTERM/SIGINT), or, with ``burst``, until idle.

        ``queues`` are claimed from in the order given; by default, the queues of this app's tasks.
        """
        from jobq.worker import Worker

        worker = Worker(
            self, concurrency=concurrency, queues=queues, burst=burst,
            dependencies=dependencies, grace=grace,
        )  # fmt: skip
        return worker.run(install_signal_handlers=install_signal_handlers)
