"""Operators' controls of the main queue: cancel jobs, pause and resume queues. ``App`` wires it; the CLI, the
HTTP API and the dashboard reach it through ``app.cancel``, ``app.pause`` and the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobq.audit import AuditEntry
from jobq.backends.contract import JobFilter, QueueControl
from jobq.clock import Clock, to_datetime
from jobq.errors import NotFound
from jobq.job import JobId, PausedQueue, new_id


@dataclass(frozen=True, slots=True)
class CancelCount:
    """What ``cancel_many`` did: queued jobs cancelled at once, running ones asked to stop."""

    cancelled: int
    stopping: int


class Controls:
    """Cancel and pause, each an audited or persisted change in one transaction."""

    def __init__(
        self,
        store: Callable[[], QueueControl],
        *,
        clock: Clock,
        wake: Callable[[], None],
        queues: Callable[[], set[str]],
    ) -> None:
        self._store = store
        self._clock = clock
        self._wake = wake
        self._queues = queues
        """The queues this app's tasks use: known even before a job was ever enqueued to them."""

    def cancel(self, job_id: str, *, by: str | None = None) -> bool:
        """Cancel a queued job now, or ask a running one to stop: True. False when it had finished already."""
        now = self._clock()
        audit = _entry(now, by, {"job_id": job_id})
        result = self._store().cancel_job(JobId(job_id), now=now, audit=audit)
        if result == "missing":
            raise NotFound(f"no job {job_id}")
        return result in ("cancelled", "stopping")

    def cancel_many(
        self,
        *,
        task: str | None = None,
        queue: str | None = None,
        tenant: str | None = None,
        key: str | None = None,
        by: str | None = None,
    ) -> CancelCount:
        """Cancel every queued job that matches and ask every running one to stop; at least one filter."""
        filters = {name: value for name, value in (("task", task), ("queue", queue), ("tenant", tenant),
                                                   ("key", key)) if value is not None}  # fmt: skip
        if not filters:
            raise ValueError("cancel_many needs at least one filter (task, queue, tenant or key)")
        now = self._clock()
        where = JobFilter(task=task, queue=queue, tenant=tenant, key=key)
        cancelled, stopping = self._store().cancel_jobs(where, now=now, audit=_entry(now, by, {"filters": filters}))
        return CancelCount(cancelled, stopping)

    def pause(self, queue: str, *, by: str | None = None) -> bool:
        """Stop every worker claiming from ``queue``; False when it was paused already."""
        self._check_queue(queue)
        return self._store().pause_queue(queue, now=self._clock(), by=by)

    def resume(self, queue: str) -> bool:
        """Let workers claim from ``queue`` again; False when it was not paused."""
        self._check_queue(queue)
        resumed = self._store().resume_queue(queue)
        if resumed:
            self._wake()
        return resumed

    def paused(self) -> list[PausedQueue]:
        """The paused queues."""
        return self._store().paused_queues()

    def _check_queue(self, queue: str) -> None:
        if queue not in self._queues() and not self._store().queue_known(queue):
            raise NotFound(f"no queue named {queue!r}: no task of this app uses it and it has no jobs")


def _entry(now: float, by: str | None, detail: dict[str, Any]) -> AuditEntry:
    return AuditEntry(id=new_id(), dead_letter_id=None, at=to_datetime(now), action="cancelled", by=by, detail=detail)
