"""The dead-letter half of the PostgreSQL backend: listing, grouping, replay, resolution, import, stats."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from jobq.audit import AuditEntry
from jobq.backends.contract import DeadLetterFilter, DeadLetterSummary, GroupBy
from jobq.backends.postgres.connection import Database
from jobq.backends.postgres.enqueue import Inserter
from jobq.backends.postgres.redrives import record_audit, record_replay
from jobq.backends.postgres.statements import (
    DEAD_COLUMNS,
    LIGHT_DEAD_COLUMNS,
    SQL,
    add_to_tally,
    dict_row_or_none,
    dict_rows,
    param,
    where_clause,
)
from jobq.backends.records import (
    dead_letter_conditions,
    dead_letter_from_row,
    letter_row,
    outbox_entry_from_row,
    replay_refused,
    summary_from_row,
)
from jobq.clock import to_datetime
from jobq.fingerprint import storable_text
from jobq.job import DeadLetter, DeadLetterGroup, DeadLetterId, JobId, NewJob, OutboxEntry
from jobq.tally import COUNTER

# Group-by choices map to columns through this whitelist, never through user text.
_GROUP_COLUMNS: dict[str, str] = {
    "fingerprint": "fingerprint",
    "task": "task",
    "class": "error_class",
    "tenant": "tenant",
    "queue": "queue",
}
# The search text is a value, never a pattern: its wildcards are escaped (backslash is ILIKE's escape).
_SEARCH = "error_message ILIKE %(search)s"


def like_pattern(text: str) -> str:
    """``text`` anywhere, with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class DeadLetters:
    """DeadLetterStore on PostgreSQL; the backend supplies the pool and the job inserter."""

    _db: Database

    @property
    def _inserter(self) -> Inserter:
        raise NotImplementedError  # pragma: no cover - PostgresBackend provides it

    def _dead_where(self, where: DeadLetterFilter) -> tuple[list[str], dict[str, Any]]:
        conditions, params = dead_letter_conditions(where, param, _SEARCH)
        if where.search:
            params["search"] = like_pattern(where.search)
        return conditions, params

    def _paged(self, where: DeadLetterFilter, limit: int, cursor: str | None) -> tuple[str, dict[str, Any]]:
        conditions, params = self._dead_where(where)
        if cursor is not None:
            conditions.append("id < %(cursor)s")
            params["cursor"] = cursor
        params["limit"] = limit
        return f"FROM dead_letters {where_clause(conditions)} ORDER BY id DESC LIMIT %(limit)s", params

    def list_dead(
        self, where: DeadLetterFilter, *, limit: int, cursor: str | None, with_payload: bool
    ) -> list[DeadLetter]:
        """Dead letters newest first; the light form skips payload, history and traceback."""
        rest, params = self._paged(where, limit, cursor)
        columns = DEAD_COLUMNS if with_payload else LIGHT_DEAD_COLUMNS
        with self._db.connection() as conn:
            return [dead_letter_from_row(row) for row in dict_rows(conn, f"SELECT {columns} {rest}", params)]

    def get_dead(self, dead_letter_id: str) -> DeadLetter | None:
        """One dead letter."""
        with self._db.connection() as conn:
            row = dict_row_or_none(conn, SQL["get_dead_letter"], {"id": dead_letter_id})
        return None if row is None else dead_letter_from_row(row)

    def count_dead(self, where: DeadLetterFilter) -> int:
        """How many match."""
        conditions, params = self._dead_where(where)
        with self._db.connection() as conn:
            row = conn.execute(f"SELECT count(*) FROM dead_letters {where_clause(conditions)}", params).fetchone()
        return int(row[0]) if row else 0

    def dead_ids(self, where: DeadLetterFilter, *, limit: int, cursor: str | None) -> list[DeadLetterId]:
        """Matching ids, newest first."""
        rest, params = self._paged(where, limit, cursor)
        with self._db.connection() as conn:
            return [DeadLetterId(row[0]) for row in conn.execute(f"SELECT id {rest}", params)]

    def group_dead(self, where: DeadLetterFilter, *, by: GroupBy, limit: int) -> list[DeadLetterGroup]:
        """Groups with counts, first and last failure, and the newest letter as a sample."""
        column = _GROUP_COLUMNS[by]
        conditions, params = self._dead_where(where)
        params["limit"] = limit
        query = (
            f"WITH groups AS (SELECT {column} AS value, count(*) AS n, min(failed_at) AS first_seen,"
            f" max(failed_at) AS last_seen, max(id) AS sample_id FROM dead_letters {where_clause(conditions)}"
            f" GROUP BY {column} ORDER BY n DESC, last_seen DESC LIMIT %(limit)s)"
            " SELECT groups.*, d.error_type, d.error_message FROM groups"
            " JOIN dead_letters AS d ON d.id = groups.sample_id ORDER BY n DESC, last_seen DESC"
        )
        with self._db.connection() as conn:
            rows = dict_rows(conn, query, params)
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
        dead_letter_id: str,
        job: NewJob,
        *,
        force: bool,
        audit: AuditEntry | None = None,
        redrive_id: str | None = None,
        redrive_owner: str | None = None,
    ) -> JobId:
        """Mark the letter replayed and enqueue its job in one transaction: racing replays make one job.

        Its audit entry and its step in a redrive are written in the same transaction.
        """
        params = {"id": dead_letter_id, "now": job.created_at, "new_job_id": job.id, "force": force,
                  "redrive_id": redrive_id}  # fmt: skip
        with self._db.transaction() as conn:
            if conn.execute(SQL["replay_dead_letter"], params).fetchone() is not None:
                self._inserter.insert(conn, [job])
                add_to_tally(conn, {("replayed", job.queue, COUNTER): 1.0})
                record_replay(
                    conn, dead_letter_id, now=job.created_at, audit=audit, redrive=(redrive_id, redrive_owner)
                )
                return job.id
            row = dict_row_or_none(conn, SQL["get_dead_letter"], {"id": dead_letter_id})
        raise replay_refused(dead_letter_id, row)

    def resolve(
        self, dead_letter_id: str, resolution: str, *, note: str | None, audit: AuditEntry | None = None
    ) -> bool:
        """Abandon (or otherwise close) an open letter, with its audit entry in the same transaction."""
        params = {"id": dead_letter_id, "resolution": resolution, "note": note}
        with self._db.transaction() as conn:
            if conn.execute(SQL["resolve_dead_letter"], params).rowcount != 1:
                return False
            record_audit(conn, audit)
            return True

    def purge_dead(self, where: DeadLetterFilter, *, audit: AuditEntry | None = None) -> int:
        """Delete matching letters, counted in the audit trail."""
        conditions, params = self._dead_where(where)
        with self._db.transaction() as conn:
            count = conn.execute(f"DELETE FROM dead_letters {where_clause(conditions)}", params).rowcount
            record_audit(conn, audit and replace(audit, detail={**audit.detail, "count": count}))
        return count

    def insert_dead(self, letters: Sequence[DeadLetter]) -> int:
        """Store letters as they are; existing ids are skipped."""
        if not letters:
            return 0
        with self._db.transaction() as conn:
            rows = [letter_row(letter) for letter in letters]  # letter_row makes its texts storable
            return sum(conn.execute(SQL["insert_dead_letter"], row).rowcount for row in rows)

    def claim_deliveries(self, *, now: float, lease: float, limit: int) -> list[OutboxEntry]:
        """Due deliveries, claimed until ``now + lease``; SKIP LOCKED keeps workers off each other's."""
        params = {"now": now, "until": now + lease, "limit": limit}
        with self._db.connection() as conn:
            rows = dict_rows(conn, SQL["claim_deliveries"], params)
        return [outbox_entry_from_row(row) for row in rows]

    def release_deliveries(self, entry_ids: Sequence[str], *, now: float) -> None:
        """Give back claimed deliveries that were not tried."""
        if entry_ids:
            with self._db.connection() as conn:
                conn.execute(SQL["release_deliveries"], {"ids": list(entry_ids), "now": now})

    def finish_delivery(
        self, entry_id: str, *, state: str, next_at: float, delivered_to: Sequence[str], error: str | None
    ) -> None:
        """Record a delivery's outcome."""
        params = {"id": entry_id, "state": state, "next_at": next_at, "delivered_to": json.dumps(list(delivered_to)),
                  "error": None if error is None else storable_text(error)}  # fmt: skip
        with self._db.connection() as conn:
            conn.execute(SQL["finish_delivery"], params)

    def outbox_counts(self) -> dict[str, int]:
        """Deliveries by state."""
        with self._db.connection() as conn:
            return {row[0]: row[1] for row in conn.execute(SQL["outbox_counts"]).fetchall()}

    def new_fingerprints(self, *, since: float) -> list[tuple[str, float, int]]:
        """Failures first seen since then."""
        with self._db.connection() as conn:
            rows = conn.execute(SQL["new_fingerprints"], {"since": since}).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def due_for_recovery(self, *, now: float, limit: int) -> list[DeadLetterId]:
        """Pending letters whose cool-down has passed."""
        with self._db.connection() as conn:
            rows = conn.execute(SQL["due_for_recovery"], {"now": now, "limit": limit}).fetchall()
        return [DeadLetterId(row[0]) for row in rows]

    def dead_summary(self, *, since: float) -> DeadLetterSummary:
        """Totals, recent count, mean attempts, and counts by class and resolution."""
        with self._db.connection() as conn:
            row = dict_row_or_none(conn, SQL["dead_letter_summary"], {"since": since})
            by_class = {r["value"]: r["n"] for r in dict_rows(conn, SQL["dead_letters_by_class"])}
            by_resolution = {r["value"]: r["n"] for r in dict_rows(conn, SQL["dead_letters_by_resolution"])}
        assert row is not None
        return summary_from_row(row, by_class, by_resolution)
