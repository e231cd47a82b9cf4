"""The audit trail as pages show it: who replayed, abandoned or purged what, with notes and payloads redacted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobq.audit import AuditEntry
from jobq.web.dashboard.board import Board
from jobq.web.dashboard.query import Filter


@dataclass(frozen=True, slots=True)
class AuditRow:
    """An entry, its note redacted, both payloads of an edited replay redacted, and a purge's filter."""

    entry: AuditEntry
    note: str | None
    original_payload: Any
    payload: Any
    """None unless the replay was edited."""
    filter: Filter | None
    """A purge's filter, as the dead-letter list's."""


def audit_rows(board: Board, entries: list[AuditEntry]) -> list[AuditRow]:
    """Entries as rows of a page."""
    rows = []
    for entry in entries:
        detail = entry.detail
        note = detail.get("note")
        edited = "original_payload" in detail
        filters = detail.get("filters")
        rows.append(AuditRow(
            entry, board.redactor.text(note) if isinstance(note, str) else None,
            board.redactor.payload(detail["original_payload"]) if edited else None,
            board.redactor.payload(detail.get("payload")) if edited else None,
            stored_filter(board, filters) if isinstance(filters, Mapping) else None,
        ))  # fmt: skip
    return rows


def stored_filter(board: Board, filters: Mapping[str, Any]) -> Filter:
    """A recorded filter as the dead-letter list's, its searched text redacted (it may be a phone number)."""
    chosen = Filter.stored(filters)
    return chosen.with_(q=board.redactor.text(chosen.get("q"))) if chosen.get("q") else chosen
