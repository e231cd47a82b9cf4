"""Django's tasks framework on jobq, call by call as Django documents it: defining, enqueueing, results."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.tasks import TaskResultStatus, default_task_backend, task, task_backends
from django.tasks.exceptions import InvalidTask, TaskResultDoesNotExist, TaskResultMismatch
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone

import jobq
from jobq.contrib.django import JobqBackend
from tests.django import tasks

from .conftest import work


def test_the_backend_says_what_it_supports_and_is_the_default_one(backend: JobqBackend) -> None:
    assert default_task_backend.alias == "default" and task_backends["default"] is backend
    assert backend.supports_defer and backend.supports_async_task
    assert backend.supports_get_result and backend.supports_priority
    assert backend.queues == {"default", "reports"}


def test_definitions_django_refuses_are_refused(backend: JobqBackend) -> None:
    with pytest.raises(InvalidTask, match="priority must be a whole number between -100 and 100"):
        tasks.add.using(priority=101)
    with pytest.raises(InvalidTask, match="Queue 'nowhere' is not valid for backend"):
        tasks.add.using(queue_name="nowhere")
    with pytest.raises(InvalidTask, match="Task takes context but does not have a first argument of 'context'"):
        task(takes_context=True)(tasks.add.func)
    with pytest.raises(InvalidTask, match="run_after must be an aware datetime"):
        tasks.add.using(run_after=timezone.now().replace(tzinfo=None))


def test_enqueue_returns_a_ready_result_and_the_job_is_a_jobq_job(backend: JobqBackend) -> None:
    result = tasks.add.enqueue(2, b=3)
    assert result.status == TaskResultStatus.READY and not result.is_finished
    assert (result.args, result.kwargs, result.backend, result.task) == ([2], {"b": 3}, "default", tasks.add)
    assert result.enqueued_at is not None and result.errors == [] and result.worker_ids == [] and result.attempts == 0
    with pytest.raises(ValueError, match="Task has not finished yet"):
        _ = result.return_value
    job = backend.app.get_job(result.id)
    assert job is not None
    assert (job.task, job.queue, job.status, job.payload) == (
        "tests.django.tasks.add", "default", "queued", {"args": [2], "kwargs": {"b": 3}}
    )  # fmt: skip
    assert tasks.add.get_result(result.id).status == TaskResultStatus.READY


def test_a_worker_runs_it_and_get_result_reports_success_with_the_return_value(backend: JobqBackend) -> None:
    result = tasks.report.enqueue("sales", rows=7)
    work(backend)
    done = tasks.report.get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL and done.is_finished
    assert done.return_value == {"name": "sales", "rows": 7, "ratio": 0.5}
    assert done.attempts == 1 and len(done.worker_ids) == 1 and done.errors == []
    assert done.enqueued_at <= done.started_at <= done.finished_at and done.last_attempted_at == done.started_at
    assert (done.task.queue_name, done.task.priority) == ("reports", 10)
    result.refresh()  # the result in hand catches up
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value["rows"] == 7


def test_get_result_refuses_unknown_ids_and_other_tasks_results(backend: JobqBackend) -> None:
    with pytest.raises(TaskResultDoesNotExist, match="no task result 'nope'"):
        default_task_backend.get_result("nope")
    result = tasks.add.enqueue(1, 1)
    with pytest.raises(TaskResultMismatch):
        tasks.report.get_result(result.id)
    other = backend.app.enqueue("somebody.elses_task", {})  # a jobq job, no Django task: no result of Django's
    with pytest.raises(TaskResultDoesNotExist):
        default_task_backend.get_result(other)


def test_aenqueue_aget_result_and_arefresh(backend: JobqBackend) -> None:
    async def enqueue() -> Any:
        return await tasks.fetch.aenqueue("https://example.test/a")

    result = asyncio.run(enqueue())
    assert asyncio.run(tasks.fetch.aget_result(result.id)).status == TaskResultStatus.READY
    work(backend)
    assert asyncio.run(default_task_backend.aget_result(result.id)).return_value == "fetched https://example.test/a"
    asyncio.run(result.arefresh())
    assert result.status == TaskResultStatus.SUCCESSFUL


def test_higher_priority_runs_first_within_a_queue(backend: JobqBackend) -> None:
    low, high = tasks.add.using(priority=-5).enqueue(1, 0), tasks.add.using(priority=50).enqueue(2, 0)
    plain = tasks.add.enqueue(3, 0)
    work(backend)
    assert tasks.ran == ["add 2 0", "add 3 0", "add 1 0"]
    assert [backend.get_result(r.id).task.priority for r in (low, high, plain)] == [-5, 50, 0]


def test_run_after_defers_the_job_until_its_time(backend: JobqBackend) -> None:
    later = timezone.now() + timedelta(hours=1)
    result = tasks.add.using(run_after=later).enqueue(4, 4)
    work(backend)
    assert tasks.ran == [] and backend.get_result(result.id).status == TaskResultStatus.READY
    job = backend.app.get_job(result.id)
    assert job is not None and job.run_at is not None and abs((job.run_at - later).total_seconds()) < 0.001


def test_queue_name_puts_the_job_in_that_queue_and_only_its_workers_take_it(backend: JobqBackend) -> None:
    result = tasks.add.using(queue_name="reports").enqueue(5, 5)
    work(backend, queues=["default"])
    assert backend.get_result(result.id).status == TaskResultStatus.READY
    work(backend, queues=["reports"])
    assert backend.get_result(result.id).return_value == 10


def test_an_async_task_runs_on_the_workers_event_loop(backend: JobqBackend) -> None:
    result = tasks.fetch.enqueue(url="https://example.test/b")
    work(backend)
    assert backend.get_result(result.id).return_value == "fetched https://example.test/b"


def test_takes_context_sees_the_attempt_and_its_own_result(backend: JobqBackend) -> None:
    result = tasks.attempt_twice.enqueue("sms")
    work(backend)
    done = backend.get_result(result.id)
    assert done.status == TaskResultStatus.SUCCESSFUL
    assert done.return_value == {"attempt": 2, "id": result.id, "status": "RUNNING"}
    assert done.attempts == 2 and [error.exception_class for error in done.errors] == [ConnectionError]
    assert "sms: provider unreachable" in done.errors[0].traceback


def test_a_running_task_reports_running(backend: JobqBackend) -> None:
    tasks.gate.clear()
    result = tasks.wait_for_gate.enqueue()
    worker = threading.Thread(target=work, args=(backend,))
    worker.start()
    try:
        deadline = timezone.now() + timedelta(seconds=10)
        while backend.get_result(result.id).status != TaskResultStatus.RUNNING and timezone.now() < deadline:
            threading.Event().wait(0.01)
        running = backend.get_result(result.id)
        assert running.status == TaskResultStatus.RUNNING and running.started_at is not None
        assert running.finished_at is None and running.attempts == 1
    finally:
        tasks.gate.set()
        worker.join()
    assert backend.get_result(result.id).return_value == "through"


def test_a_return_value_that_is_not_json_fails_the_task_as_in_django(backend: JobqBackend) -> None:
    result = tasks.opaque.enqueue()
    work(backend)
    failed = backend.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED
    assert [error.exception_class for error in failed.errors] == [TypeError, TypeError]
    with pytest.raises(ValueError, match="Task failed"):
        _ = failed.return_value


def test_arguments_that_are_not_json_are_refused_at_enqueue_and_nothing_is_stored(backend: JobqBackend) -> None:
    with pytest.raises(jobq.PayloadError, match=r"payload is not JSON: args\[0\] is an object"):
        tasks.add.enqueue(object(), 1)
    with pytest.raises(jobq.PayloadError, match="cannot take this payload"):
        tasks.add.enqueue(1, 2, 3)
    assert backend.app.list_jobs() == []


def test_task_enqueued_is_signalled_with_the_result(backend: JobqBackend) -> None:
    seen: list[Any] = []

    def receiver(sender: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append((sender, task_result.id))

    task_enqueued.connect(receiver)
    try:
        result = tasks.add.enqueue(1, 2)
    finally:
        task_enqueued.disconnect(receiver)
    assert seen == [(JobqBackend, result.id)]


def test_workers_signal_task_started_and_task_finished_as_django_does(backend: JobqBackend) -> None:
    seen: list[tuple[str, str, str, int, int]] = []

    def receiver(which: Any, task_result: Any, **kwargs: Any) -> None:
        seen.append((kwargs["sender"].__name__, task_result.task.name, str(task_result.status),
                     task_result.attempts, len(task_result.errors)))  # fmt: skip

    connected = [(signal, partial(receiver, signal)) for signal in (task_started, task_finished)]
    for signal, handler in connected:
        signal.connect(handler, weak=False)
    try:
        ok, retried, refused = tasks.add.enqueue(1, 2), tasks.explode.enqueue(3), tasks.refuse.enqueue("x")
        work(backend)
    finally:
        for signal, handler in connected:
            signal.disconnect(handler)
    assert backend.get_result(ok.id).return_value == 3
    assert backend.get_result(retried.id).status == backend.get_result(refused.id).status == TaskResultStatus.FAILED
    assert seen == [
        ("JobqBackend", "add", "RUNNING", 1, 0), ("JobqBackend", "add", "SUCCESSFUL", 1, 0),
        ("JobqBackend", "explode", "RUNNING", 1, 0),  # retried: not finished, no task_finished
        ("JobqBackend", "refuse", "RUNNING", 1, 0), ("JobqBackend", "refuse", "FAILED", 1, 1),  # user_error: no retry
        ("JobqBackend", "explode", "RUNNING", 2, 1), ("JobqBackend", "explode", "FAILED", 2, 2),  # the last attempt
    ]  # fmt: skip


def test_a_signal_receiver_that_raises_never_fails_the_task(backend: JobqBackend) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a receiver's bug")

    task_finished.connect(broken, weak=False)
    try:
        result = tasks.add.enqueue(2, 2)
        work(backend)
    finally:
        task_finished.disconnect(broken)
    done = backend.get_result(result.id)
    assert (done.status, done.attempts, done.return_value) == (TaskResultStatus.SUCCESSFUL, 1, 4)


def test_a_job_enqueued_by_name_into_another_queue_still_has_a_result(backend: JobqBackend) -> None:
    job_id = backend.app.enqueue("tests.django.tasks.add", {"a": 1, "b": 1}, queue="elsewhere")  # jobq enqueue, API
    work(backend, queues=["elsewhere"])
    result = backend.get_result(job_id)
    assert (result.status, result.return_value, result.task.queue_name) == (TaskResultStatus.SUCCESSFUL, 2, "default")
