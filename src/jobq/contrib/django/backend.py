"""``JobqBackend``: Django's tasks framework on jobq's storage. A Django task is a jobq task named by its module
path; enqueueing one is a jobq enqueue, and its ``TaskResult`` is read back from the job (``results.py``)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS
from django.tasks import Task, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone

from jobq.app import App
from jobq.contrib.django import attempts
from jobq.contrib.django.registry import DjangoTasks, TaskDefaults
from jobq.contrib.django.results import task_result
from jobq.contrib.django.transactions import enqueue_with_transaction
from jobq.job import JobId, new_id
from jobq.payload import encode as encode_payload
from jobq.retry import as_backoff

OPTIONS = {
    "URL": "the jobq database URL (default: $JOBQ_URL, else sqlite:///./jobq.db)",
    "APP": "a jobq.App to use instead, as 'module:attribute' (its hooks, policy, alerting... apply)",
    "DATABASE": "the Django database whose transactions enqueue follows (default: 'default')",
    "MAX_ATTEMPTS": "attempts per task before its dead letter (default: 3)",
    "BACKOFF": "seconds between attempts (default: jobq's exponential backoff)",
    "TIMEOUT": "seconds an attempt may take (default: none)",
}


class JobqBackend(BaseTaskBackend):
    """``TASKS = {"default": {"BACKEND": "jobq.contrib.django.JobqBackend", "OPTIONS": {"URL": ...}}}``."""

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        unknown = sorted(set(self.options) - OPTIONS.keys())
        if unknown:
            raise ImproperlyConfigured(
                f"TASKS[{alias!r}]['OPTIONS'] has no option {unknown[0]!r}; jobq's are {', '.join(OPTIONS)}"
            )
        self.app: App = _app(alias, self.options)
        """The jobq app behind this backend: ``backend.app.dlq``, ``backend.app.stats()`` and the rest."""
        self.database: str = self.options.get("DATABASE", DEFAULT_DB_ALIAS)
        defaults = TaskDefaults(
            max_attempts=int(self.options.get("MAX_ATTEMPTS", 3)),
            backoff=as_backoff(self.options.get("BACKOFF")),
            timeout=self.options.get("TIMEOUT"),
        )
        self.tasks = DjangoTasks(self.app, alias=alias, defaults=defaults)
        self.app.tasks = self.tasks  # the worker finds Django tasks through it, by module path, importing on demand

    def validate_task(self, task: Task) -> None:
        """Django's checks, then the task is known to this backend's workers (its definition passes here)."""
        super().validate_task(task)
        self.tasks.add(task)

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        """Queue the task; inside ``transaction.atomic()`` the job exists only if the transaction commits."""
        self.validate_task(task)
        args, kwargs = list(args), dict(kwargs)
        encode_payload(args, kwargs)  # a payload that is not JSON fails here and now, even when enqueued at commit
        self.tasks.add(task).check_arguments(args, kwargs, at_enqueue=True)
        job_id = JobId(new_id())  # named now: the TaskResult needs it before a deferred enqueue has run
        enqueue = partial(
            self.app.enqueue, task.module_path, kwargs, args=args, queue=task.queue_name, priority=task.priority,
            run_at=_aware(task.run_after), job_id=job_id,
        )  # fmt: skip
        enqueue_with_transaction(enqueue, database=self.database, url=self.app.url)
        result = TaskResult(
            task=task, id=job_id, status=TaskResultStatus.READY, enqueued_at=timezone.now(), started_at=None,
            last_attempted_at=None, finished_at=None, args=args, kwargs=kwargs, backend=self.alias, errors=[],
            worker_ids=[],
        )  # fmt: skip
        task_enqueued.send(type(self), task_result=result)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        """The task's result as jobq has it now; a job replayed from the DLQ reports its replay's outcome."""
        result = task_result(self.app, result_id, alias=self.alias)
        if result is None:
            raise TaskResultDoesNotExist(f"no task result {result_id!r} in {self.app.url}")
        return result


attempts.SENDER = JobqBackend  # the signals' sender, as Django's backends send them


def _app(alias: str, options: dict[str, Any]) -> App:
    if "APP" not in options:
        return App(options.get("URL"))
    if "URL" in options:
        raise ImproperlyConfigured(f"TASKS[{alias!r}]['OPTIONS']: give URL or APP, not both (APP has its own URL)")
    from jobq.cli.context import load_app

    return load_app(options["APP"], None)


def _aware(moment: datetime | None) -> datetime | None:
    """Django's naive datetimes are in its current time zone (USE_TZ = False); jobq reads naive ones as UTC."""
    if moment is None or timezone.is_aware(moment):
        return moment
    aware: datetime = timezone.make_aware(moment)
    return aware
