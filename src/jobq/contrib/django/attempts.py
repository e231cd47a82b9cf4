"""One attempt of a Django task in a jobq worker, as Django's own backends run one: the ``TaskContext`` it may
take, Django's ``task_started`` / ``task_finished`` signals, and a return value that must be JSON.

Each attempt reads its result once (``results.task_result``: status RUNNING, the attempts so far) for the context
and the signals. ``task_finished`` is sent when the task is finished: on success, and on a failure that jobq
will not retry (the last attempt, or a class the policy sends straight to the DLQ); an attempt that will be
retried leaves the result READY, and sends nothing.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from django.dispatch import Signal
from django.tasks import Task as DjangoTask
from django.tasks import TaskContext, TaskResult, TaskResultStatus
from django.tasks.base import TaskError
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.json import normalize_json

from jobq.app import App
from jobq.contrib.django.results import task_result
from jobq.current import current_or_none
from jobq.fingerprint import error_type_name
from jobq.job import ClaimedJob

log = logging.getLogger("jobq.django")

SENDER: type[Any] | None = None
"""The sender of the signals: ``JobqBackend``, set when it is imported (it imports this module)."""


class Attempt:
    """The attempt running now of ``task`` (the worker's ``current_job``), with its result as read at its start."""

    def __init__(self, task: DjangoTask, app: App, job: ClaimedJob) -> None:
        self.task, self.app, self.job = task, app, job
        result = task_result(app, job.lease.job_id, alias=task.backend)
        if result is None:  # pragma: no cover - the job is running, so it exists
            raise RuntimeError(f"job {job.lease.job_id} vanished while it ran")
        self.result: TaskResult = result

    def arguments(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """The task function's positional arguments: its ``TaskContext`` first, when it takes one."""
        return (TaskContext(task_result=self.result), *args) if self.task.takes_context else args

    def started(self) -> None:
        _send(task_started, self.result)

    def succeeded(self, value: Any) -> Any:
        """The JSON form of ``value`` (TypeError when it has none, failing the attempt, as in Django)."""
        plain = normalize_json(value)
        _update(self.result, status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now(), _return_value=plain)
        _send(task_finished, self.result)
        return plain

    def failed(self, exc: BaseException) -> None:
        if not _final(self.app, self.job, exc):
            return
        error = TaskError(exception_class_path=_path(exc), traceback=_traceback(exc))
        _update(self.result, status=TaskResultStatus.FAILED, finished_at=timezone.now(),
                errors=[*self.result.errors, error])  # fmt: skip
        _send(task_finished, self.result)


def run_attempt(task: DjangoTask, app: App, call: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """Run one attempt of ``task``: ``call`` gets the function's positional arguments; returns its JSON value."""
    attempt = Attempt(task, app, _running(task))
    attempt.started()
    try:
        value = call(*attempt.arguments(args))
    except BaseException as exc:  # noqa: BLE001 - told to the receivers below, then raised again for jobq
        failure = exc
    else:
        return attempt.succeeded(value)
    attempt.failed(failure)  # outside the except: Django's logger then logs one line, not the traceback again
    raise failure


async def run_attempt_async(
    task: DjangoTask, app: App, call: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
) -> Any:
    """``run_attempt`` for a coroutine function: its result is read off the worker's event loop."""
    attempt = await app.offload(Attempt, task, app, _running(task))
    attempt.started()
    try:
        value = await call(*attempt.arguments(args))
    except BaseException as exc:  # noqa: BLE001 - as in run_attempt
        failure = exc
    else:
        return attempt.succeeded(value)
    attempt.failed(failure)
    raise failure


def _running(task: DjangoTask) -> ClaimedJob:
    current = current_or_none()
    if current is None:
        raise RuntimeError(f"{task.module_path} runs in a jobq worker: enqueue it, or call it with task.call()")
    return current.claimed


def _final(app: App, job: ClaimedJob, exc: BaseException) -> bool:
    """Will jobq dead-letter the job after this attempt (rather than retry it)?"""
    task = app.tasks.get(job.task)
    max_attempts = job.max_attempts or (task.options.max_attempts if task is not None else 1)
    return job.attempts >= max_attempts or app.classifier(exc, app.clock()).action == "dead"


def _send(signal: Signal, result: TaskResult) -> None:
    """Send robustly: a receiver that raises is logged, and never fails the task (nor, after it succeeded, makes a
    worker run it again)."""
    for receiver, error in signal.send_robust(SENDER, task_result=result):
        if isinstance(error, BaseException):
            log.error("A receiver of a Django task signal failed: %r raised %r", receiver, error, exc_info=error)


def _update(result: TaskResult, **changes: Any) -> None:
    for name, value in changes.items():
        object.__setattr__(result, name, value)  # TaskResult is frozen: Django's backends change it this way too


def _path(exc: BaseException) -> str:
    name = error_type_name(type(exc))
    return name if "." in name else f"builtins.{name}"


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))
