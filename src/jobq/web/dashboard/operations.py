"""Carrying out a confirmed action through ``app.dlq``'s bulk operations, so that a racing operator or a second
replay of the same letter is refused exactly as from the CLI; this module only counts the core's results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from jobq.app import App
from jobq.bulk import BulkResult
from jobq.job import DeadLetter, Payload
from jobq.web.dashboard.selection import Selection

MOMENT = timedelta(microseconds=2)
"""Half the window a letter is singled out in: stored times are float seconds, records carry microseconds."""


@dataclass(slots=True)
class Outcome:
    """What an action did: letters changed, left alone (already replayed or resolved), gone, refused, or with a
    payload that cannot be read."""

    changed: int = 0
    skipped: int = 0
    missing: int = 0
    refused: int = 0
    unreadable: int = 0
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
    if chosen.filter is not None:
        results = app.dlq.replay_many(rate=rate, force=chosen.force, by=by, **chosen.filters()).results
    else:
        results = app.dlq.replay_ids(chosen.ids, force=chosen.force, payload=payload, by=by, rate=rate).results
    return _tally(results)


def _abandon(app: App, chosen: Selection, by: str, note: str | None) -> Outcome:
    if chosen.filter is not None:
        return _tally(app.dlq.abandon_many(note=note, by=by, unresolved=True, **chosen.filters()).results)
    return _tally(app.dlq.abandon_ids(chosen.ids, note=note, by=by).results)


def _tally(results: list[BulkResult]) -> Outcome:
    """The core's per-letter results, counted for the flash message."""
    outcome = Outcome(job_ids=[result.job_id for result in results if result.job_id is not None])
    for result in results:
        if result.changed:
            outcome.changed += 1
        elif result.outcome == "not_found":
            outcome.missing += 1
        elif result.outcome == "unreadable_payload":
            outcome.unreadable += 1
        else:
            outcome.skipped += 1
    return outcome


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
