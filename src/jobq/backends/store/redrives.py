"""RedriveStore once for both databases: tracked redrives, and the audit trail written inside the changes
it records."""

from __future__ import annotations

from jobq.audit import AuditEntry
from jobq.backends.redrive_records import audit_entry_from_row, audit_params, redrive_from_row, redrive_params
from jobq.backends.store.seam import Seam, Session
from jobq.errors import RedriveStopped
from jobq.job import DeadLetterId
from jobq.redrive import Redrive, RedriveId, RedriveOutcome, RedriveState, outcomes


class Redrives:
    """RedriveStore over a seam; the backend supplies ``_seam``."""

    _seam: Seam

    def start_redrive(self, redrive: Redrive) -> None:
        """Record a new redrive."""
        with self._seam.write(one_statement=True) as session:
            session.run(self._seam.sql["insert_redrive"], redrive_params(redrive))

    def get_redrive(self, redrive_id: RedriveId) -> Redrive | None:
        """One redrive."""
        with self._seam.read() as session:
            row = session.row(self._seam.sql["get_redrive"], {"id": redrive_id})
        return None if row is None else redrive_from_row(row)

    def list_redrives(self, *, limit: int, cursor: str | None) -> list[Redrive]:
        """Redrives newest first."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["list_redrives"], {"cursor": cursor, "limit": limit})
        return [redrive_from_row(row) for row in rows]

    def take_redrive(self, redrive_id: RedriveId, *, owner: str, now: float) -> Redrive | None:
        """Make ``owner`` drive an unfinished redrive."""
        params = {"id": redrive_id, "owner": owner, "now": now}
        with self._seam.write(one_statement=True) as session:
            row = session.row(self._seam.sql["take_redrive"], params)
        return None if row is None else redrive_from_row(row)

    def skip_in_redrive(self, redrive_id: RedriveId, *, owner: str, cursor: DeadLetterId, now: float) -> bool:
        """Count a letter passed over and move the cursor past it."""
        params = {"id": redrive_id, "owner": owner, "cursor": cursor, "now": now}
        with self._seam.write(one_statement=True) as session:
            return session.run(self._seam.sql["count_skip"], params) == 1

    def stop_redrive(self, redrive_id: RedriveId, *, state: RedriveState, owner: str | None, now: float) -> bool:
        """Move a running redrive to ``state``."""
        params = {"id": redrive_id, "state": state, "owner": owner, "now": now}
        with self._seam.write(one_statement=True) as session:
            return session.run(self._seam.sql["stop_redrive"], params) == 1

    def redrive_outcome(self, redrive_id: RedriveId) -> list[RedriveOutcome]:
        """What became of the redrive's jobs, by fingerprint."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["redrive_outcome"], {"id": redrive_id})
        return outcomes((row["fingerprint"], row["status"], row["died_with"], int(row["n"])) for row in rows)

    def audit_trail(self, dead_letter_id: DeadLetterId) -> list[AuditEntry]:
        """The letter's audit entries, oldest first."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["audit_trail"], {"dead_letter_id": dead_letter_id})
        return [audit_entry_from_row(row) for row in rows]

    def audit_log(self, *, limit: int, cursor: str | None) -> list[AuditEntry]:
        """Every audit entry, newest first."""
        with self._seam.read() as session:
            rows = session.rows(self._seam.sql["audit_log"], {"cursor": cursor, "limit": limit})
        return [audit_entry_from_row(row) for row in rows]


def record_replay(
    seam: Seam,
    session: Session,
    dead_letter_id: DeadLetterId,
    *,
    now: float,
    audit: AuditEntry | None,
    redrive: tuple[RedriveId | None, str | None],
) -> None:
    """Inside a replay's transaction: its audit entry, and its step in the redrive ``(id, owner)`` making it,
    if any; RedriveStopped (undoing the replay) when that redrive is not running under that owner any more."""
    redrive_id, owner = redrive
    if redrive_id is not None:
        params = {"id": redrive_id, "owner": owner, "cursor": dead_letter_id, "now": now}
        if session.run(seam.sql["count_replay"], params) != 1:
            raise RedriveStopped(f"redrive {redrive_id} was cancelled or taken over")
    record_audit(seam, session, audit)


def record_audit(seam: Seam, session: Session, audit: AuditEntry | None) -> None:
    """Inside the transaction of the change it records."""
    if audit is not None:
        session.run(seam.sql["insert_audit"], audit_params(audit))
