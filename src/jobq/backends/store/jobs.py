"""The main queue as operators see it, once for both databases: one job, listings, counts, clean-up, tally."""

from __future__ import annotations

from collections.abc import Sequence

from jobq.backends.contract import JobFilter
from jobq.backends.records import job_conditions, job_from_row
from jobq.backends.store.dead_letters import where_clause
from jobq.backends.store.seam import Seam
from jobq.job import Job, JobId, JobStatus

JOB_COLUMNS = (
    "id, task, queue, status, priority, payload, tenant, key, unique_key, attempts, max_attempts, "
    "run_at, created_at, started_at, finished_at, worker, errors, replay_of, result"
)


class Jobs:
    """The operator's reads and deletes of ``jobs``; the backend supplies ``_seam``."""

    _seam: Seam

    def get_job(self, job_id: JobId) -> Job | None:
        """One job."""
        with self._seam.read() as session:
            row = session.row(self._seam.sql["get_job"], {"id": job_id})
        return None if row is None else job_from_row(row)

    def list_jobs(self, where: JobFilter, *, limit: int, cursor: str | None) -> list[Job]:
        """Jobs newest first."""
        param = self._seam.param
        conditions, params = job_conditions(where, param)
        if cursor is not None:
            conditions.append(f"id < {param('cursor')}")
            params["cursor"] = cursor
        params["limit"] = limit
        query = f"SELECT {JOB_COLUMNS} FROM jobs {where_clause(conditions)} ORDER BY id DESC LIMIT {param('limit')}"
        with self._seam.read() as session:
            return [job_from_row(row) for row in session.rows(query, params)]

    def job_counts(self, *, now: float) -> dict[str, dict[str, int]]:
        """Counts by queue and state; queued jobs due later count as scheduled."""
        counts: dict[str, dict[str, int]] = {}
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["job_counts"], {"now": now})
        for row in rows:
            queue = counts.setdefault(
                row["queue"], {"queued": 0, "scheduled": 0, "running": 0, "succeeded": 0, "dead": 0, "cancelled": 0}
            )
            state = "scheduled" if row["status"] == "queued" and row["later"] else row["status"]
            queue[state] += row["n"]
        return counts

    def delete_jobs(self, statuses: Sequence[JobStatus], *, finished_before: float | None) -> int:
        """Delete jobs in the given states."""
        params = {"statuses": self._seam.array(statuses), "before": finished_before}
        with self._seam.write(one_statement=True) as session:
            return session.run(self._seam.sql["delete_jobs"], params)

    def read_tally(self) -> list[tuple[str, str, float, float]]:
        """Every counter and bucket."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["read_tally"])
        return [(row["name"], row["queue"], row["le"], row["value"]) for row in rows]
