"""UpkeepStore on PostgreSQL: alerts fired once per storm, and the DLQ quota."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jobq.backends.postgres.connection import Database
from jobq.backends.postgres.statements import DEAD_COLUMNS, add_to_tally, dict_rows
from jobq.backends.queries import load_queries
from jobq.backends.records import dead_letter_from_row, pruned_tally
from jobq.fingerprint import storable_text
from jobq.job import DeadLetter, new_id

SQL = load_queries("jobq.backends.postgres", "upkeep.sql")
NO_BOUND = 2**62  # an OFFSET past any table ("OFFSET NULL" would mean none at all)


class Upkeep:
    """Mixed into PostgresBackend, which supplies the pool."""

    _db: Database

    def fire_alerts(
        self,
        crossed: Sequence[str],
        *,
        now: float,
        quiet: float,
        compose: Callable[[list[str]], Sequence[Mapping[str, Any]]],
    ) -> list[str]:
        """Clear, forget and fire alerts, and put the fired ones' events in the outbox, in one transaction."""
        names = sorted(set(crossed))
        with self._db.transaction() as conn:
            conn.execute(SQL["lock_alerts"])
            conn.execute(SQL["clear_alerts"], {"now": now, "crossed": names})
            conn.execute(SQL["forget_alerts"], {"now": now, "quiet": quiet})
            conn.execute(SQL["resume_alerts"], {"crossed": names})
            fired = [row[0] for row in conn.execute(SQL["fire_alerts"], {"crossed": names, "now": now}).fetchall()]
            if fired:
                data = [_jsonb(event) for event in compose(fired)]
                conn.execute(SQL["add_alerts_to_outbox"], {"ids": [new_id() for _ in data], "data": data, "now": now})
        return fired

    def claim_chore(self, name: str, *, now: float, every: float) -> bool:
        """The chore's turn, when due."""
        params = {"name": name, "now": now, "next_at": now + every}
        with self._db.transaction() as conn:
            return conn.execute(SQL["claim_chore"], params).fetchone() is not None

    def prune_dead(
        self, *, keep: int | None, before: float | None, limit: int, archive: Callable[[list[DeadLetter]], object]
    ) -> int:
        """Archive, then delete, the oldest letters past the quota; counted per queue as ``dlq_pruned``."""
        params = {"keep": NO_BOUND if keep is None else keep, "before": before, "limit": limit}
        with self._db.transaction() as conn:
            rows = dict_rows(conn, SQL["prune_victims"].format(columns=DEAD_COLUMNS), params)
            letters = [dead_letter_from_row(row) for row in rows]
            if not letters:
                return 0
            archive(letters)
            conn.execute(SQL["delete_dead_letters"], {"ids": [letter.id for letter in letters]})
            add_to_tally(conn, pruned_tally(letters))
        return len(letters)


def _jsonb(value: Mapping[str, Any]) -> str:
    """JSON text jsonb accepts: no NUL characters nor lone surrogates, which an error message may carry."""
    return json.dumps(_storable(value), ensure_ascii=False)


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return storable_text(value)
    if isinstance(value, Mapping):
        return {storable_text(str(key)): _storable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_storable(item) for item in value]
    return value
