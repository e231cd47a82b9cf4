"""Outcomes into PostgreSQL in as few round trips as their rows allow: one set-based statement per run of
outcomes of one kind, all sent into the connection's pipeline with the claim, the tally and COMMIT.

A group of acknowledgements, retries and releases then costs one round trip, claim included. Dead letters add
one: a letter is written from its job's row as the ``dead_letter`` statement leaves it, and the domain plans
its recovery from that row (``store/dead_lettering.py``), so the letters can only follow once the rows are back.

Each outcome is fenced by its lease: a statement applies it only while the job still runs under that token,
and ``applied`` says, outcome by outcome, which took. Runs are sent in the order of the outcomes, so two
outcomes for one lease behave as if applied one by one: the first takes, the next is fenced off.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any

from psycopg import Cursor
from psycopg.rows import dict_row

from jobq.backends.postgres.connection import Connection
from jobq.backends.postgres.statements import SQL
from jobq.backends.records import error_to_dict
from jobq.backends.store.dead_lettering import write_letters
from jobq.backends.store.seam import Row, Seam, Session
from jobq.job import Cancelled, DeadLettered, Outcome, Released, RetryLater, Succeeded

Offset = Callable[[float], float]
"""A caller's instant as seconds from the caller's present (the database adds them to its own clock)."""

_STATEMENT: dict[type, str] = {
    Succeeded: "ack", RetryLater: "retry", Released: "release", DeadLettered: "dead_letter",
    Cancelled: "cancel_running",
}  # fmt: skip


class Recording:
    """The statements of one group of outcomes, sent into the connection's pipeline as it is made."""

    def __init__(self, conn: Connection, outcomes: Sequence[Outcome], *, channel: str, offset: Offset) -> None:
        self._runs: list[tuple[list[Outcome], Cursor[dict[str, Any]]]] = []
        self._rows: dict[int, list[Row | None]] = {}  # each run's rows, once read (a cursor gives them once)
        for kind, run in groupby(outcomes, key=type):
            batch = list(run)
            cursor = conn.cursor(row_factory=dict_row)
            cursor.execute(SQL[_STATEMENT[kind]], _params(kind, batch, channel, offset))
            self._runs.append((batch, cursor))

    def write_letters(self, seam: Seam, session: Session) -> None:
        """Wait for the rows of the jobs turned dead (a round trip), then send their letters and hook deliveries."""
        outcomes: list[DeadLettered] = []
        jobs: list[Row | None] = []
        for run, (batch, _) in enumerate(self._runs):
            if isinstance(batch[0], DeadLettered):
                outcomes += [outcome for outcome in batch if isinstance(outcome, DeadLettered)]
                jobs += self._each(run)
        if outcomes:
            write_letters(seam, session, outcomes, jobs)

    def applied(self) -> list[bool]:
        """Outcome by outcome, whether it took; read once the pipeline synced."""
        return [row is not None for run in range(len(self._runs)) for row in self._each(run)]

    def _each(self, run: int) -> list[Row | None]:
        if run not in self._rows:
            batch, cursor = self._runs[run]
            self._rows[run] = _each(batch, cursor.fetchall())
        return self._rows[run]


def applied_acks(batch: Sequence[Outcome], rows: Sequence[Row]) -> list[bool]:
    """Which outcomes took, from the (id, token) rows their statement returned."""
    return [row is not None for row in _each(batch, rows)]


def _each(batch: Sequence[Outcome], rows: Sequence[Row]) -> list[Row | None]:
    """For each outcome, the row its statement returned for its lease, or None where it was fenced off."""
    found = {(row["id"], row["token"]): row for row in rows}
    # As if applied one by one: a lease given two outcomes in one statement took the first.
    return [found.pop((outcome.lease.job_id, outcome.lease.token), None) for outcome in batch]


def _params(kind: type, batch: Sequence[Outcome], channel: str, offset: Offset) -> dict[str, Any]:
    """The statement's parameters: ``ack`` takes arrays; the others one JSON document of rows (an error's
    traceback in a text[] would be escaped character by character by the driver, in Python)."""
    values = [_values(outcome, offset) for outcome in batch]
    if kind is Succeeded:
        return {name: [row[name] for row in values] for name in values[0]}
    return {"outcomes": json.dumps(values, ensure_ascii=False), "channel": channel}


def _values(outcome: Outcome, offset: Offset) -> dict[str, Any]:
    """One outcome's values; instants a lease is compared with become offsets from now (see backend.py)."""
    lease = {"id": outcome.lease.job_id, "token": outcome.lease.token}
    match outcome:
        case Succeeded(at=at, result=result):
            return {**lease, "at": at, "result": result}
        case RetryLater(error=error, run_at=run_at, expired_at=expired_at):
            return {**lease, "run_at": run_at, "error": error_to_dict(error), "expired_in": _in(expired_at, offset)}
        case Released():
            return lease
        case Cancelled(at=at):
            return {**lease, "at": at}
        case DeadLettered(error=error, at=at, expired_at=expired_at):
            return {**lease, "at": at, "error": error_to_dict(error), "expired_in": _in(expired_at, offset)}
    raise TypeError(f"unknown outcome {outcome!r}")  # pragma: no cover


def _in(moment: float | None, offset: Offset) -> float | None:
    return None if moment is None else offset(moment)
