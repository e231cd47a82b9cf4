"""The outbox once for both databases: hook deliveries claimed, given back and finished."""

from __future__ import annotations

import json
from collections.abc import Sequence

from jobq.backends.records import outbox_entry_from_row
from jobq.backends.store.seam import Seam
from jobq.job import OutboxEntry


class Outbox:
    """OutboxStore over a seam; the backend supplies ``_seam``."""

    _seam: Seam

    def claim_deliveries(self, *, now: float, lease: float, limit: int) -> list[OutboxEntry]:
        """Due deliveries, claimed until ``now + lease`` (PostgreSQL skips rows other workers hold)."""
        params = {"now": now, "until": now + lease, "limit": limit}
        with self._seam.write(one_statement=True) as session:
            rows = session.rows(self._seam.sql["claim_deliveries"], params)
        return [outbox_entry_from_row(row) for row in rows]

    def release_deliveries(self, entry_ids: Sequence[str], *, now: float) -> None:
        """Give back claimed deliveries that were not tried."""
        if entry_ids:
            params = {"ids": self._seam.array(entry_ids), "now": now}
            with self._seam.write(one_statement=True) as session:
                session.run(self._seam.sql["release_deliveries"], params)

    def finish_delivery(
        self, entry_id: str, *, state: str, next_at: float, delivered_to: Sequence[str], error: str | None
    ) -> None:
        """Record a delivery's outcome."""
        params = {"id": entry_id, "state": state, "next_at": next_at, "delivered_to": json.dumps(list(delivered_to)),
                  "error": None if error is None else self._seam.text(error)}  # fmt: skip
        with self._seam.write(one_statement=True) as session:
            session.run(self._seam.sql["finish_delivery"], params)

    def outbox_counts(self) -> dict[str, int]:
        """Deliveries by state."""
        with self._seam.read() as session:
            return {row["state"]: row["n"] for row in session.rows(self._seam.sql["outbox_counts"])}
