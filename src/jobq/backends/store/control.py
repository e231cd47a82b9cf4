"""QueueControl once for both databases: cancelling jobs (at once when queued, by asking when running) and
pausing queues. A cancel writes its audit entry in its own transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jobq.audit import AuditEntry
from jobq.backends.contract import JobFilter
from jobq.backends.records import job_conditions
from jobq.backends.store.redrives import record_audit
from jobq.backends.store.seam import Seam
from jobq.clock import to_datetime
from jobq.job import CancelResult, JobId, Lease, PausedQueue


class Control:
    """QueueControl over a seam (and the worker's look at cancels); the backend supplies ``_seam``."""

    _seam: Seam

    def cancel_job(self, job_id: JobId, *, now: float, audit: AuditEntry | None = None) -> CancelResult:
        """Queued: cancelled now. Running: asked to stop. Else nothing."""
        sql, params = self._seam.sql, {"id": job_id, "now": now}
        with self._seam.write() as session:
            result: CancelResult
            if session.row(sql["cancel_queued"], params) is not None:
                result = "cancelled"
            elif session.row(sql["ask_to_stop"], params) is not None:
                result = "stopping"
            else:
                return "missing" if session.row(sql["job_status"], params) is None else "finished"
            was = "queued" if result == "cancelled" else "running"
            record_audit(self._seam, session, audit and replace(audit, detail={**audit.detail, "was": was}))
        return result

    def cancel_jobs(self, where: JobFilter, *, now: float, audit: AuditEntry | None = None) -> tuple[int, int]:
        """Both statements over the same whitelisted conditions, in one transaction."""
        conditions, params = job_conditions(where, self._seam.param)
        matching = "".join(f" AND {condition}" for condition in conditions)
        now_param = self._seam.param("now")
        params["now"] = now
        with self._seam.write() as session:
            cancelled = session.run(
                f"UPDATE jobs SET status = 'cancelled', finished_at = {now_param} WHERE status = 'queued'{matching}",
                params,
            )
            stopping = session.run(
                f"UPDATE jobs SET cancel_requested = coalesce(cancel_requested, {now_param})"
                f" WHERE status = 'running'{matching}",
                params,
            )
            detail = {"cancelled": cancelled, "stopping": stopping}
            record_audit(self._seam, session, audit and replace(audit, detail={**audit.detail, **detail}))
        return cancelled, stopping

    def cancels_requested(self, leases: Sequence[Lease]) -> list[Lease]:
        """Held leases whose job an operator asked to stop."""
        if not leases:
            return []
        ids = self._seam.array([lease.job_id for lease in leases])
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["cancels_requested"], {"ids": ids})
        asked = {(row["id"], row["token"]) for row in rows}
        return [lease for lease in leases if (lease.job_id, lease.token) in asked]

    def pause_queue(self, queue: str, *, now: float, by: str | None) -> bool:
        """Insert the pause (a second pause keeps the first)."""
        with self._seam.write(one_statement=True) as session:
            return session.run(self._seam.sql["pause_queue"], {"queue": queue, "now": now, "by": by}) == 1

    def resume_queue(self, queue: str) -> bool:
        """Delete the pause, and wake the workers of that queue when it commits."""
        with self._seam.write() as session:
            resumed = session.run(self._seam.sql["resume_queue"], {"queue": queue}) == 1
            if resumed:
                session.notify([queue])
        return resumed

    def paused_queues(self) -> list[PausedQueue]:
        """Every pause."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["paused_queues"])
        return [PausedQueue(row["queue"], to_datetime(row["paused_at"]), row["paused_by"]) for row in rows]

    def queue_known(self, queue: str) -> bool:
        """Jobs in it, or a pause."""
        with self._seam.read() as session:
            return session.row(self._seam.sql["queue_known"], {"queue": queue}) is not None
