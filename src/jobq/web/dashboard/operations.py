"""Carrying out a confirmed action through ``app.dlq``, one dead letter at a time where the core works that way,
so that a racing operator or a second replay of the same letter is refused exactly as from the CLI.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jobq.app import App
from jobq.errors import AlreadyReplayed, NotFound
from jobq.job import DeadLetter, Payload
from jobq.web.dashboard.selection import Selection

BULK_PAGE = 500
MOMENT = timedelta(microseconds=2)
"""Half the window a letter is singled out in: stored times are float seconds, records carry microseconds."""


@dataclass(slots=True)
class Outcome:
    """What an action did: letters changed, left alone (already replayed or resolved), gone, or refused."""

    changed: int = 0
    skipped: int = 0
    missing: int = 0
    refused: int = 0
    job_ids: list[str] = field(default_factory=list)
    """The new jobs of a replay."""


def run(
    app: App,
    chosen: Selection,
    *,
    by: str,
    rate: float | None = None,
    note: str | None = None,
    payload: Payload | None = None,
) -> Outcome:
    """Do ``chosen`` as ``by`` (who, for the audit trail); ``rate`` paces replays (jobs per second), ``note`` says
    why letters were abandoned, ``payload`` replaces the arguments of a single replay (edit then replay)."""
    if chosen.action == "replay":
        return _replay(app, chosen, by, rate, payload)
    if chosen.action == "abandon":
        return _abandon(app, chosen, by, note)
    return _purge(app, chosen, by)


def _replay(app: App, chosen: Selection, by: str, rate: float | None, payload: Payload | None) -> Outcome:
    outcome = Outcome()
    if chosen.filter is not None:
        report = app.dlq.replay_many(rate=rate, force=chosen.force, by=by, **chosen.filters())
        for result in report.results:
            _count(outcome, result.outcome, result.job_id)
        return outcome
    pause = 1.0 / rate if rate else 0.0
    for index, dead_letter_id in enumerate(chosen.ids):
        started = time.monotonic()
        try:
            job_id = app.dlq.replay(dead_letter_id, force=chosen.force, payload=payload, by=by)
        except AlreadyReplayed:
            _count(outcome, "already_replayed", None)
        except NotFound:
            _count(outcome, "not_found", None)
        else:
            _count(outcome, "replayed", job_id)
        if pause and index + 1 < len(chosen.ids):
            time.sleep(max(0.0, pause - (time.monotonic() - started)))
    return outcome


def _count(outcome: Outcome, result: str, job_id: str | None) -> None:
    if result == "replayed" and job_id is not None:
        outcome.changed += 1
        outcome.job_ids.append(job_id)
    elif result == "not_found":
        outcome.missing += 1
    else:
        outcome.skipped += 1


def _abandon(app: App, chosen: Selection, by: str, note: str | None) -> Outcome:
    outcome = Outcome()
    for dead_letter_id in chosen.ids or _waiting_ids(app, chosen.filters()):
        try:
            if app.dlq.abandon(dead_letter_id, note=note, by=by):
                outcome.changed += 1
            else:
                outcome.skipped += 1
        except NotFound:
            outcome.missing += 1
    return outcome


def _waiting_ids(app: App, filters: dict[str, Any]) -> list[str]:
    """Ids of the matching letters still waiting, read in pages before any is changed."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = app.dlq.list(limit=BULK_PAGE, cursor=cursor, unresolved=True, **filters)
        ids += [letter.id for letter in page]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def _purge(app: App, chosen: Selection, by: str) -> Outcome:
    outcome = Outcome()
    if chosen.filter is not None:
        filters = chosen.filters()
        outcome.changed = app.dlq.purge(by=by, **filters) if filters else app.dlq.purge(everything=True, by=by)
        return outcome
    for dead_letter_id in chosen.ids:
        letter = app.dlq.get(dead_letter_id)
        if letter is None:
            outcome.missing += 1
            continue
        narrow = only(letter)
        if app.dlq.count(**narrow) != 1:
            outcome.refused += 1  # another letter shares the moment and the failure: cannot single this one out
            continue
        outcome.changed += app.dlq.purge(by=by, **narrow)
    return outcome


def only(letter: DeadLetter) -> dict[str, Any]:
    """A filter that matches ``letter`` and, in practice, nothing else.

    ``app.dlq.purge`` takes filters, not ids: a letter is singled out by its task, queue, fingerprint, tenant
    and the microseconds around its failure; the caller checks that exactly one letter matches before purging.
    """
    narrow: dict[str, Any] = {
        "task": letter.task, "queue": letter.queue, "fingerprint": letter.fingerprint,
        "since": letter.failed_at - MOMENT, "until": letter.failed_at + MOMENT,
    }  # fmt: skip
    if letter.tenant is not None:
        narrow["tenant"] = letter.tenant
    return narrow
