"""Rows ↔ redrives and audit entries, for both backends (JSON arrives as text on SQLite, decoded on PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from jobq.audit import AuditAction, AuditEntry
from jobq.clock import to_datetime
from jobq.job import DeadLetterId
from jobq.redrive import Redrive, RedriveId, RedriveState

Row = Mapping[str, Any]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def redrive_params(redrive: Redrive) -> dict[str, Any]:
    """A redrive as the named parameters of ``insert_redrive`` (filters as JSON text, times in seconds)."""
    return {
        "id": redrive.id, "created_at": redrive.created_at.timestamp(), "updated_at": redrive.updated_at.timestamp(),
        "state": redrive.state, "filters": json.dumps(dict(redrive.filters)), "force": redrive.force,
        "rate": redrive.rate, "matched": redrive.matched, "replayed": redrive.replayed, "skipped": redrive.skipped,
        "cursor": redrive.cursor, "owner": redrive.owner, "started_by": redrive.started_by,
    }  # fmt: skip


def redrive_from_row(row: Row) -> Redrive:
    """A ``redrives`` row → Redrive."""
    return Redrive(
        id=RedriveId(row["id"]),
        state=cast(RedriveState, row["state"]),
        filters=_json(row["filters"]),
        matched=row["matched"],
        created_at=to_datetime(row["created_at"]),
        updated_at=to_datetime(row["updated_at"]),
        replayed=row["replayed"],
        skipped=row["skipped"],
        force=bool(row["force"]),
        rate=row["rate"],
        cursor=None if row["cursor"] is None else DeadLetterId(row["cursor"]),
        owner=row["owner"],
        started_by=row["started_by"],
    )


def audit_params(entry: AuditEntry) -> dict[str, Any]:
    """An audit entry as the named parameters of ``insert_audit``."""
    return {
        "id": entry.id,
        "dead_letter_id": entry.dead_letter_id,
        "at": entry.at.timestamp(),
        "action": entry.action,
        "actor": entry.by,
        "detail": json.dumps(dict(entry.detail), ensure_ascii=False),
    }


def audit_entry_from_row(row: Row) -> AuditEntry:
    """A ``dlq_audit`` row → AuditEntry."""
    return AuditEntry(
        id=row["id"],
        dead_letter_id=None if row["dead_letter_id"] is None else DeadLetterId(row["dead_letter_id"]),
        at=to_datetime(row["at"]),
        action=cast(AuditAction, row["action"]),
        by=row["actor"],
        detail=_json(row["detail"]),
    )
