"""Dead-lettering, once for both databases: the job turns dead, the domain plans its recovery, the letter and
its hook deliveries are written — plain statements, all inside the caller's transaction (both, or neither).

The recovery round is decided by ``jobq.recovery.plan_recovery`` from the round of the letter the job was
replayed from, which the ``dead_letter`` statement returns (``prior_round``) as it marks the job dead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from jobq.backends.store.seam import Params, Row, Seam, Session
from jobq.job import DeadLettered, new_id
from jobq.recovery import plan_recovery

Fence = Callable[[DeadLettered], Params]
"""The ``dead_letter`` parameters of one outcome: its lease and error, in the dialect's terms for time."""


def dead_letter(seam: Seam, session: Session, outcomes: Sequence[DeadLettered], fence: Fence) -> list[bool]:
    """Move each outcome's job to the DLQ; False where its lease fenced it off (taken over, or finished).

    The ``dead_letter`` statement runs once per outcome here (SQLite); PostgreSQL runs its set-based one for a
    whole group and hands the rows to ``write_letters`` itself (``backends/postgres/recording.py``).
    """
    if not outcomes:
        return []
    jobs = session.first_each(seam.sql["dead_letter"], [fence(outcome) for outcome in outcomes])
    write_letters(seam, session, outcomes, jobs)
    return [job is not None for job in jobs]


def write_letters(seam: Seam, session: Session, outcomes: Sequence[DeadLettered], jobs: Sequence[Row | None]) -> None:
    """The letters and hook deliveries of the outcomes whose job the ``dead_letter`` statement turned dead.

    ``jobs``: for each outcome, the row that statement returned for its job, or None where it was fenced off.
    """
    letters = [_letter(outcome, job) for outcome, job in zip(outcomes, jobs, strict=True) if job is not None]
    if letters:
        session.run_each(seam.sql["insert_dead_letter"], letters)
    hooks = [hook for outcome, letter in _hooked(outcomes, jobs, letters) for hook in _hooks(outcome, letter)]
    if hooks:
        session.run_each(seam.sql["add_to_outbox"], hooks)


def _letter(outcome: DeadLettered, job: Row) -> dict[str, Any]:
    """The ``insert_dead_letter`` parameters: the dead job's row, the failure, and the recovery plan."""
    error = outcome.error
    plan = plan_recovery(
        outcome.recovery, recoverable=outcome.error_class == "recoverable", prior_round=job["prior_round"],
        at=outcome.at,
    )  # fmt: skip
    return {
        "id": outcome.dead_letter_id, "job_id": outcome.lease.job_id, "task": job["task"], "queue": job["queue"],
        "priority": job["priority"], "tenant": job["tenant"], "key": job["key"], "payload": job["payload"],
        "attempts": job["attempts"], "max_attempts": outcome.max_attempts, "errors": job["errors"],
        "error_type": error.error_type, "error_message": error.message, "error_traceback": error.traceback,
        "error_class": outcome.error_class, "fingerprint": outcome.fingerprint, "failed_at": outcome.at,
        "created_at": job["created_at"], "resolution": plan.resolution, "replayed_at": None, "replayed_as": None,
        "note": None, "recover_at": plan.recover_at, "recovery_round": plan.round, "previous_id": job["replay_of"],
    }  # fmt: skip


def _hooked(
    outcomes: Sequence[DeadLettered], jobs: Sequence[Row | None], letters: Sequence[dict[str, Any]]
) -> list[tuple[DeadLettered, dict[str, Any]]]:
    """Each written letter with its outcome, where the outcome asks for hooks."""
    written = [outcome for outcome, job in zip(outcomes, jobs, strict=True) if job is not None]
    return [(outcome, letter) for outcome, letter in zip(written, letters, strict=True) if outcome.hooks]


def _hooks(outcome: DeadLettered, letter: dict[str, Any]) -> list[dict[str, Any]]:
    """The outbox rows of a letter's hooks. Each event carries the letter as written, so a purge before the
    delivery cannot silence it (``data`` is that row as JSON text; PostgreSQL reads the row as jsonb itself)."""
    data = json.dumps({**letter, "redrive_id": None})
    return [
        {"id": new_id(), "kind": kind, "dead_letter_id": outcome.dead_letter_id, "at": outcome.at, "data": data}
        for kind in outcome.hooks
    ]
