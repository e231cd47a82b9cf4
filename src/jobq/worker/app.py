"""What a worker reads of its app: ``Worker(app, ...)`` takes it once and hands each part only its port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from jobq.alerting import Alerting
from jobq.backends.contract import WorkerStore
from jobq.classify import Classifier
from jobq.clock import Clock
from jobq.dlq import DeadLetterQueue
from jobq.hooks import Hooks
from jobq.job import DeadLetterId, JobId, NewJob
from jobq.periodic import Schedule
from jobq.quota import Quota
from jobq.recovery import RecoveryPolicy
from jobq.redact import Redactor
from jobq.task import Task


class WorkerApp(Protocol):
    """What a worker reads of its app (``jobq.App`` has it all): read once, when the worker is made."""

    tasks: dict[str, Task[Any, Any]]
    dependencies: dict[str, Any]
    lease: float
    clock: Clock
    classifier: Classifier
    recovery: RecoveryPolicy
    redactor: Redactor
    redact_at_rest: bool
    hooks: Hooks | None
    alerting: Alerting
    quota: Quota | None
    schedules: dict[str, Schedule]

    @property
    def backend(self) -> WorkerStore: ...

    @property
    def dlq(self) -> DeadLetterQueue: ...

    def add_waker(self, wake: Callable[[], None]) -> Callable[[], None]: ...

    def tick_job(self, schedule: Schedule, tick: float) -> NewJob: ...


def replayer(app: WorkerApp) -> Callable[[DeadLetterId], JobId]:
    """How the recovery queue replays a letter: as an operator would, under its own name in the audit trail."""
    return lambda dead_letter_id: app.dlq.replay(dead_letter_id, by="recovery queue")
