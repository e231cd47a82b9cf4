"""DeadLetterStore once for both databases: listing, grouping, replay, resolution, purge, import, stats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from jobq.audit import AuditEntry
from jobq.backends.contract import DeadLetterFilter, DeadLetterSummary, GroupBy
from jobq.backends.records import (
    dead_letter_conditions,
    dead_letter_from_row,
    letter_row,
    replay_refused,
    summary_from_row,
)
from jobq.backends.store.redrives import record_audit, record_replay
from jobq.backends.store.seam import Seam
from jobq.clock import to_datetime
from jobq.job import DeadLetter, DeadLetterGroup, DeadLetterId, JobId, NewJob
from jobq.redrive import RedriveId
from jobq.tally import COUNTER

DEAD_COLUMNS = (
    "id, job_id, task, queue, priority, tenant, key, payload, attempts, max_attempts, errors, error_type, "
    "error_message, error_traceback, error_class, fingerprint, failed_at, created_at, resolution, "
    "replayed_at, replayed_as, note, recover_at, recovery_round, previous_id"
)
LIGHT_DEAD_COLUMNS = (
    "id, job_id, task, queue, priority, tenant, key, attempts, max_attempts, error_type, error_message, "
    "error_class, fingerprint, failed_at, created_at, resolution, replayed_at, replayed_as, note, "
    "recover_at, recovery_round, previous_id"
)
# Group-by choices map to columns through this whitelist, never through user text.
_GROUP_COLUMNS: dict[str, str] = {
    "fingerprint": "fingerprint",
    "task": "task",
    "class": "error_class",
    "tenant": "tenant",
    "queue": "queue",
}


def where_clause(conditions: list[str]) -> str:
    """A WHERE clause ANDing whitelisted conditions (or nothing)."""
    return f"WHERE {' AND '.join(conditions)}" if conditions else ""


class DeadLetters:
    """DeadLetterStore over a seam; the backend supplies ``_seam``."""

    _seam: Seam

    def _dead_where(self, where: DeadLetterFilter) -> tuple[list[str], dict[str, Any]]:
        conditions, params = dead_letter_conditions(where, self._seam.param, self._seam.search)
        if where.search:
            params["search"] = self._seam.search_value(where.search)
        return conditions, params

    def _paged(self, where: DeadLetterFilter, limit: int, cursor: str | None) -> tuple[str, dict[str, Any]]:
        conditions, params = self._dead_where(where)
        if cursor is not None:
            conditions.append(f"id < {self._seam.param('cursor')}")
            params["cursor"] = cursor
        params["limit"] = limit
        limited = f"LIMIT {self._seam.param('limit')}"
        return f"FROM dead_letters {where_clause(conditions)} ORDER BY id DESC {limited}", params

    def list_dead(
        self, where: DeadLetterFilter, *, limit: int, cursor: str | None, with_payload: bool
    ) -> list[DeadLetter]:
        """Dead letters newest first; the light form skips payload, history and traceback."""
        rest, params = self._paged(where, limit, cursor)
        columns = DEAD_COLUMNS if with_payload else LIGHT_DEAD_COLUMNS
        with self._seam.read() as session:
            return [dead_letter_from_row(row) for row in session.rows(f"SELECT {columns} {rest}", params)]

    def get_dead(self, dead_letter_id: DeadLetterId) -> DeadLetter | None:
        """One dead letter."""
        with self._seam.read() as session:
            row = session.row(self._seam.sql["get_dead_letter"], {"id": dead_letter_id})
        return None if row is None else dead_letter_from_row(row)

    def count_dead(self, where: DeadLetterFilter) -> int:
        """How many match."""
        conditions, params = self._dead_where(where)
        with self._seam.read() as session:
            row = session.row(f"SELECT count(*) AS n FROM dead_letters {where_clause(conditions)}", params)
        return 0 if row is None else int(row["n"])

    def dead_ids(self, where: DeadLetterFilter, *, limit: int, cursor: str | None) -> list[DeadLetterId]:
        """Matching ids, newest first."""
        rest, params = self._paged(where, limit, cursor)
        with self._seam.read() as session:
            return [DeadLetterId(row["id"]) for row in session.rows(f"SELECT id {rest}", params)]

    def group_dead(self, where: DeadLetterFilter, *, by: GroupBy, limit: int) -> list[DeadLetterGroup]:
        """Groups with counts, first and last failure, and the newest letter as a sample."""
        column = _GROUP_COLUMNS[by]
        conditions, params = self._dead_where(where)
        params["limit"] = limit
        query = (
            f"WITH groups AS (SELECT {column} AS value, count(*) AS n, min(failed_at) AS first_seen,"
            f" max(failed_at) AS last_seen, max(id) AS sample_id FROM dead_letters {where_clause(conditions)}"
            f" GROUP BY {column} ORDER BY n DESC, last_seen DESC LIMIT {self._seam.param('limit')})"
            " SELECT groups.*, d.error_type, d.error_message FROM groups"
            " JOIN dead_letters AS d ON d.id = groups.sample_id ORDER BY n DESC, last_seen DESC"
        )
        with self._seam.read() as session:
            rows = session.rows(query, params)
        return [
            DeadLetterGroup(
                value=row["value"],
                count=row["n"],
                first_seen=to_datetime(row["first_seen"]),
                last_seen=to_datetime(row["last_seen"]),
                sample_id=DeadLetterId(row["sample_id"]),
                sample_error_type=row["error_type"],
                sample_message=row["error_message"],
            )
            for row in rows
        ]

    def replay(
        self,
        dead_letter_id: DeadLetterId,
        job: NewJob,
        *,
        force: bool,
        audit: AuditEntry | None = None,
        redrive_id: RedriveId | None = None,
        redrive_owner: str | None = None,
    ) -> JobId:
        """Mark the letter replayed and enqueue its job in one transaction: racing replays make one job.

        Its audit entry and its step in a redrive are written in the same transaction.
        """
        params = {"id": dead_letter_id, "now": job.created_at, "new_job_id": job.id, "force": force,
                  "redrive_id": redrive_id}  # fmt: skip
        sql = self._seam.sql
        with self._seam.write() as session:
            if session.run(sql["replay_dead_letter"], params) == 1:
                session.insert_job(job)
                session.add_to_tally({("replayed", job.queue, COUNTER): 1.0})
                record_replay(
                    self._seam, session, dead_letter_id, now=job.created_at, audit=audit,
                    redrive=(redrive_id, redrive_owner),
                )  # fmt: skip
                return job.id
            row = session.row(sql["get_dead_letter"], {"id": dead_letter_id})
        raise replay_refused(dead_letter_id, row)

    def abandon(self, dead_letter_id: DeadLetterId, *, note: str | None, audit: AuditEntry | None = None) -> bool:
        """Abandon an open letter, with its audit entry in the same transaction."""
        params = {"id": dead_letter_id, "note": note}
        with self._seam.write() as session:
            if session.run(self._seam.sql["abandon_dead_letter"], params) != 1:
                return False
            record_audit(self._seam, session, audit)
            return True

    def purge_dead(self, where: DeadLetterFilter, *, audit: AuditEntry | None = None) -> int:
        """Delete matching letters, counted in the audit trail."""
        conditions, params = self._dead_where(where)
        with self._seam.write() as session:
            count = session.run(f"DELETE FROM dead_letters {where_clause(conditions)}", params)
            record_audit(self._seam, session, audit and replace(audit, detail={**audit.detail, "count": count}))
        return count

    def insert_dead(self, letters: Sequence[DeadLetter]) -> int:
        """Store letters as they are; existing ids are skipped."""
        if not letters:
            return 0
        rows = [letter_row(letter) for letter in letters]  # letter_row makes its texts storable
        with self._seam.write() as session:
            return sum(session.run(self._seam.sql["insert_dead_letter"], row) for row in rows)

    def new_fingerprints(self, *, since: float) -> list[tuple[str, float, int]]:
        """Failures first seen since then."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["new_fingerprints"], {"since": since})
        return [(row["fingerprint"], row["first_seen"], row["n"]) for row in rows]

    def due_for_recovery(self, *, now: float, limit: int) -> list[DeadLetterId]:
        """Pending letters whose cool-down has passed."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["due_for_recovery"], {"now": now, "limit": limit})
        return [DeadLetterId(row["id"]) for row in rows]

    def dead_summary(self, *, since: float) -> DeadLetterSummary:
        """Totals, recent count, mean attempts, and counts by class and resolution."""
        sql = self._seam.sql
        with self._seam.read() as session:
            row = session.row(sql["dead_letter_summary"], {"since": since})
            by_class = {r["value"]: r["n"] for r in session.rows(sql["dead_letters_by_class"])}
            by_resolution = {r["value"]: r["n"] for r in session.rows(sql["dead_letters_by_resolution"])}
        assert row is not None  # an aggregate without GROUP BY always returns its one row
        return summary_from_row(row, by_class, by_resolution)
