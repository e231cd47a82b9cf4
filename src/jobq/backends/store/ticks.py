"""PeriodicStore once for both databases: a tick's row and its job in one transaction, so that the primary key of
``periodic_ticks`` (schedule, tick) lets one worker enqueue each tick, however many see it come due."""

from __future__ import annotations

from collections.abc import Sequence

from jobq.backends.store.seam import Seam
from jobq.job import JobId, NewJob
from jobq.periodic import LastTick


class Ticks:
    """PeriodicStore over a seam; the backend supplies ``_seam``."""

    _seam: Seam

    def enqueue_ticks(self, ticks: Sequence[tuple[str, float, NewJob]], *, now: float, keep: float) -> list[JobId]:
        """Record each tick not taken yet and enqueue its job; forget a schedule's ticks older than ``keep``."""
        sql, enqueued = self._seam.sql, []
        with self._seam.write() as session:
            for schedule, tick, job in sorted(ticks, key=lambda item: item[:2]):
                params = {"schedule": schedule, "tick": tick, "job_id": job.id, "now": now}
                if session.row(sql["insert_tick"], params) is None:
                    continue  # another worker enqueued it (or a later tick of the schedule) first
                session.insert_job(job)
                session.run(sql["forget_ticks"], {"schedule": schedule, "before": tick - keep})
                enqueued.append(job.id)
        return enqueued

    def last_ticks(self) -> dict[str, LastTick]:
        """Each schedule's latest tick."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["last_ticks"])
        return {row["schedule"]: LastTick(float(row["tick"]), row["job_id"], row["status"]) for row in rows}
