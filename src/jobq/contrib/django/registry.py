"""Django tasks as jobq tasks: each one registered under its module path, with a handler that runs it as Django
would (``attempts.py``: its ``TaskContext``, Django's signals, a JSON return value; fresh database connections).

A worker learns a task when its definition is imported (``JobqBackend.validate_task``), or on the first job
of it: the registry imports the module path then, so a worker knows every task its project can import.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections
from django.tasks import Task as DjangoTask
from django.utils.module_loading import import_string

from jobq.app import App
from jobq.contrib.django.attempts import run_attempt, run_attempt_async
from jobq.retry import Backoff
from jobq.task import Task

log = logging.getLogger("jobq.django")


@dataclass(frozen=True, slots=True)
class TaskDefaults:
    """How a backend's tasks are retried and timed out (its OPTIONS); queue and priority are each task's own."""

    max_attempts: int
    backoff: Backoff
    timeout: float | None


class DjangoTasks(dict[str, Task[Any, Any]]):
    """``app.tasks`` of a Django backend: the tasks seen so far, and any other importable one on first use."""

    def __init__(self, app: App, *, alias: str, defaults: TaskDefaults) -> None:
        super().__init__(app.tasks)
        self._app = app
        self._alias = alias
        self._defaults = defaults

    def add(self, task: DjangoTask) -> Task[Any, Any]:
        """The jobq task that runs ``task`` (registered on first sight)."""
        known = super().get(task.module_path)
        if known is not None:
            return known
        register = self._app.task(
            name=task.module_path, queue=task.queue_name, priority=task.priority,
            max_attempts=self._defaults.max_attempts, backoff=self._defaults.backoff, timeout=self._defaults.timeout,
        )  # fmt: skip
        return register(handler(task, self._app))

    def get(self, name: str, default: Any = None) -> Any:
        found = super().get(name)
        return found if found is not None else (self._imported(name) or default)

    def __getitem__(self, name: str) -> Task[Any, Any]:
        found: Task[Any, Any] | None = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __setitem__(self, name: str, task: Task[Any, Any]) -> None:
        super().__setitem__(name, task)

    def _imported(self, name: str) -> Task[Any, Any] | None:
        """The Django task at module path ``name``, if it is one of this backend's (None: an unknown task)."""
        try:
            found = import_string(name)
        except ImportError:
            return None
        except Exception:
            log.exception("Importing task %s failed", name)
            return None
        if not isinstance(found, DjangoTask) or found.backend != self._alias:
            return None
        return self.add(found)


def handler(task: DjangoTask, app: App) -> Callable[..., Any]:
    """The function a jobq worker calls for ``task``: the task's own parameters (without ``context``)."""
    parameters = list(inspect.signature(task.func).parameters.values())
    signature = inspect.Signature(parameters[1:] if task.takes_context else parameters)

    if inspect.iscoroutinefunction(task.func):

        @functools.wraps(task.func)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            return await run_attempt_async(task, app, functools.partial(task.func, **kwargs), args)

        run_async.__signature__ = signature  # type: ignore[attr-defined]
        return run_async

    @functools.wraps(task.func)
    def run(*args: Any, **kwargs: Any) -> Any:
        # As Django does around a request: a connection left broken or too old by the last job is not reused.
        close_old_connections()
        try:
            return run_attempt(task, app, functools.partial(task.func, **kwargs), args)
        finally:
            close_old_connections()

    run.__signature__ = signature  # type: ignore[attr-defined]
    return run
