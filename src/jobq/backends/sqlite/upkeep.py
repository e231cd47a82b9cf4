"""UpkeepStore on SQLite: alerts fired once per storm, and the DLQ quota. Each runs in one ``BEGIN IMMEDIATE``,
so racing workers take turns and the second finds the work done."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jobq.backends.queries import load_queries
from jobq.backends.records import dead_letter_from_row, pruned_tally
from jobq.backends.sqlite.connection import Connections
from jobq.job import DeadLetter, new_id

SQL = load_queries("jobq.backends.sqlite", "upkeep.sql")
QUEUE_SQL = load_queries("jobq.backends.sqlite", "queries.sql")
NO_BOUND = 2**62  # an OFFSET past any table: "keep" without a count bound


class Upkeep:
    """Mixed into SqliteBackend, which supplies the connections."""

    _db: Connections

    def fire_alerts(
        self,
        crossed: Sequence[str],
        *,
        now: float,
        quiet: float,
        compose: Callable[[list[str]], Sequence[Mapping[str, Any]]],
    ) -> list[str]:
        """Clear, forget and fire alerts, and put the fired ones' events in the outbox, in one transaction."""
        with self._db.write() as conn:
            names = json.dumps(sorted(set(crossed)))
            conn.execute(SQL["clear_alerts"], {"now": now, "crossed": names})
            conn.execute(SQL["forget_alerts"], {"now": now, "quiet": quiet})
            conn.execute(SQL["resume_alerts"], {"crossed": names})
            fired = [
                row[0]
                for name in sorted(set(crossed))
                for row in conn.execute(SQL["fire_alert"], {"name": name, "now": now})
            ]
            if fired:
                events = [(new_id(), now, now, json.dumps(dict(data))) for data in compose(fired)]
                conn.executemany(SQL["add_alert_to_outbox"], events)
        return fired

    def claim_chore(self, name: str, *, now: float, every: float) -> bool:
        """The chore's turn, when due."""
        params = {"name": name, "now": now, "next_at": now + every}
        with self._db.write() as conn:
            return conn.execute(SQL["claim_chore"], params).fetchone() is not None

    def prune_dead(
        self, *, keep: int | None, before: float | None, limit: int, archive: Callable[[list[DeadLetter]], object]
    ) -> int:
        """Archive, then delete, the oldest letters past the quota; counted per queue as ``dlq_pruned``."""
        params = {"keep": NO_BOUND if keep is None else keep, "before": before, "limit": limit}
        with self._db.write() as conn:
            letters = [dead_letter_from_row(row) for row in conn.execute(SQL["prune_victims"], params)]
            if not letters:
                return 0
            archive(letters)
            conn.executemany(SQL["delete_dead_letter"], [(letter.id,) for letter in letters])
            conn.executemany(QUEUE_SQL["add_to_tally"], [(*key, value) for key, value in pruned_tally(letters).items()])
        return len(letters)
