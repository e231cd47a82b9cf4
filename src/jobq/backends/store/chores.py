"""ChoreStore once for both databases: alerts fired once per storm, chores' turns, and the DLQ quota.

Each runs in one write transaction, so racing workers take turns and the second finds the work done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jobq.backends.records import dead_letter_from_row, pruned_tally
from jobq.backends.store.seam import Seam
from jobq.job import DeadLetter, new_id

NO_BOUND = 2**62  # an OFFSET past any table: "keep" without a count bound ("OFFSET NULL" would mean none)


class Chores:
    """ChoreStore over a seam; the backend supplies ``_seam``."""

    _seam: Seam

    def fire_alerts(
        self,
        crossed: Sequence[str],
        *,
        now: float,
        quiet: float,
        compose: Callable[[list[str]], Sequence[Mapping[str, Any]]],
    ) -> list[str]:
        """Clear, forget and fire alerts, and put the fired ones' events in the outbox, in one transaction."""
        sql, names = self._seam.sql, self._seam.array(sorted(set(crossed)))
        with self._seam.write() as session:
            session.run(sql["lock_alerts"])
            session.run(sql["clear_alerts"], {"now": now, "crossed": names})
            session.run(sql["forget_alerts"], {"now": now, "quiet": quiet})
            session.run(sql["resume_alerts"], {"crossed": names})
            fired = [row["name"] for row in session.rows(sql["fire_alerts"], {"crossed": names, "now": now})]
            if fired:
                events = [{"id": new_id(), "now": now, "data": self._seam.event_json(data)} for data in compose(fired)]
                session.run_each(sql["add_alert_to_outbox"], events)
        return fired

    def claim_chore(self, name: str, *, now: float, every: float) -> bool:
        """The chore's turn, when due."""
        params = {"name": name, "now": now, "next_at": now + every}
        with self._seam.write(one_statement=True) as session:
            return session.row(self._seam.sql["claim_chore"], params) is not None

    def prune_dead(
        self, *, keep: int | None, before: float | None, limit: int, archive: Callable[[list[DeadLetter]], object]
    ) -> int:
        """Archive, then delete, the oldest letters past the quota; counted per queue as ``dlq_pruned``."""
        params = {"keep": NO_BOUND if keep is None else keep, "before": before, "limit": limit}
        with self._seam.write() as session:
            letters = [dead_letter_from_row(row) for row in session.rows(self._seam.sql["prune_victims"], params)]
            if not letters:
                return 0
            archive(letters)
            session.run(self._seam.sql["delete_dead_letters"], {"ids": self._seam.array([x.id for x in letters])})
            session.add_to_tally(pruned_tally(letters))
        return len(letters)
