"""A jobq job read back as Django's ``TaskResult``: status, times, errors, workers and return value.

A job that died and was replayed from the DLQ (by an operator, ``jobq dlq replay``, or the recovery queue)
lives on as a new job; the result follows the replays to the newest one, so ``get_result`` reports the outcome
of the last run, and ``errors`` every failed attempt of every run.
"""

from __future__ import annotations

from datetime import timedelta

from django.tasks import Task as DjangoTask
from django.tasks import TaskResult, TaskResultStatus
from django.tasks.base import TaskError
from django.tasks.exceptions import InvalidTask
from django.utils.module_loading import import_string

from jobq.app import App
from jobq.job import Job

STATUSES = {
    "queued": TaskResultStatus.READY,  # also a retry waiting for its time: Django's "ready to be executed again"
    "running": TaskResultStatus.RUNNING,
    "succeeded": TaskResultStatus.SUCCESSFUL,
    "dead": TaskResultStatus.FAILED,
}
MAX_REPLAYS = 1000
"""Replays followed at most: a bound, not a limit anyone reaches."""


def task_result(app: App, result_id: str, *, alias: str) -> TaskResult | None:
    """The result of job ``result_id`` (None when there is no such job, or it is no Django task)."""
    job = app.get_job(result_id)
    if job is None:
        return None
    task = _django_task(job.task, alias)
    if task is None:
        return None
    runs = [job, *replays(app, job)]
    last = runs[-1]
    errors = [error for run in runs for error in run.errors]
    workers = [error.worker or "" for error in errors]
    if last.status in ("running", "succeeded") and last.worker:
        workers.append(last.worker)  # the attempt running now, or the one that succeeded: no error of its own
    first_error = errors[0] if errors else None
    started = (
        first_error.at - timedelta(seconds=first_error.duration or 0.0) if first_error is not None else last.started_at
    )
    result = TaskResult(
        task=_as_enqueued(task, job),
        id=job.id,
        status=STATUSES[last.status],
        enqueued_at=job.created_at,
        started_at=started,
        last_attempted_at=last.started_at,
        finished_at=last.finished_at if last.status in ("succeeded", "dead") else None,
        args=job.payload.get("args", []),
        kwargs=job.payload.get("kwargs", {}),
        backend=alias,
        errors=[TaskError(exception_class_path=_importable(e.error_type), traceback=e.traceback) for e in errors],
        worker_ids=workers,
    )
    object.__setattr__(result, "_return_value", last.result)  # Django's way: return_value reads it
    return result


def replays(app: App, job: Job) -> list[Job]:
    """The jobs a dead job was replayed as, oldest first (the last may be dead, replayed again, or anything)."""
    found: list[Job] = []
    while job.status == "dead" and len(found) < MAX_REPLAYS:
        letters = app.dlq.list(job_id=job.id, limit=1)
        replayed_as = letters[0].replayed_as if letters else None
        next_job = app.get_job(replayed_as) if replayed_as else None
        if next_job is None:  # not replayed (yet), or its job was cleared since
            break
        found.append(next_job)
        job = next_job
    return found


def _as_enqueued(task: DjangoTask, job: Job) -> DjangoTask:
    """The task with the job's queue and priority (``using()``), or as defined when Django would refuse those (a
    job enqueued by name, by ``jobq enqueue`` or the HTTP API, into a queue the backend does not list)."""
    try:
        changed: DjangoTask = task.using(priority=job.priority, queue_name=job.queue)
    except InvalidTask:
        return task
    return changed


def _django_task(name: str, alias: str) -> DjangoTask | None:
    try:
        found = import_string(name)
    except ImportError:
        return None
    return found if isinstance(found, DjangoTask) and found.backend == alias else None


def _importable(error_type: str) -> str:
    """jobq stores builtins by bare name (``KeyError``); Django resolves a dotted path (``builtins.KeyError``)."""
    return error_type if "." in error_type else f"builtins.{error_type}"
