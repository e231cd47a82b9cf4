"""Changes to many dead letters, made safe: count first, dry run, confirm, progress, and a line per id.

The changes themselves are the core's (``app.dlq.replay_ids``, ``abandon_ids``, ``abandon_many``); this module
asks, shows progress and renders what became of each letter.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from jobq.app import App
from jobq.bulk import BulkResult, Progress
from jobq.cli.context import Context
from jobq.cli.options import Safety, Selector
from jobq.cli.output import echo_json, plural, progress
from jobq.errors import NotFound
from jobq.job import DeadLetterId


@dataclass(frozen=True, slots=True)
class Result:
    """What happened to one selected dead letter."""

    dead_letter_id: str
    outcome: str
    """``replayed`` or ``abandoned``; else why not (``jobq.bulk.BulkOutcome``): ``already_replayed``…"""
    job_id: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """The dead letters a change applies to: how many, and their ids (or the filter of ``--all``)."""

    count: int
    ids: Sequence[DeadLetterId] = ()
    filters: dict[str, Any] | None = None
    """The pinned filter of ``--all`` (None for ids): what it applies to."""


@dataclass(frozen=True, slots=True)
class Change:
    """One change the core applies to each selected dead letter (replay or abandon), and how a result reads."""

    verb: str
    past: str
    apply: Callable[[Selection, Progress], object]
    """Applies the change through ``app.dlq``, telling ``Progress`` after each letter."""
    render: Callable[[BulkResult], Result]


class Declined(click.ClickException):
    """The operator answered no: nothing was changed."""


# -- selecting ------------------------------------------------------------------------------------


def pin(filters: dict[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """Filters with relative times made absolute, and ``until`` defaulting to now.

    The count the operator confirms and the change that follows then cover the same dead letters, even
    while new ones arrive.
    """
    now = now or datetime.now(UTC)
    pinned = {key: now - value if isinstance(value, timedelta) else value for key, value in filters.items()}
    pinned.setdefault("until", now)
    return pinned


def select(app: App, selector: Selector, *, unresolved_only: bool) -> Selection:
    """Check the selector and find what it selects; unknown ids fail before anything changes."""
    if selector.ids and selector.everything:
        raise click.UsageError("give dead-letter ids or --all, not both")
    if not selector.ids and not selector.everything:
        raise click.UsageError("give dead-letter ids, or --all (with filters) to select by filter")
    if selector.ids:
        if selector.filters:
            raise click.UsageError("filters select dead letters with --all; they do not apply to ids")
        ids = [DeadLetterId(text) for text in dict.fromkeys(selector.ids)]
        missing = [dead_letter_id for dead_letter_id in ids if app.dlq.get(dead_letter_id) is None]
        if missing:
            raise NotFound(f"no dead letter {', '.join(missing)} (nothing was changed)")
        return Selection(len(ids), ids)
    filters = pin(selector.filters)
    if unresolved_only and "resolution" not in filters:
        filters["unresolved"] = True  # open or pending recovery: what still waits for someone
    return Selection(app.dlq.count(**filters), filters=filters)


# -- the two changes ------------------------------------------------------------------------------


def replay_change(app: App, *, force: bool, by: str | None, rate: float | None = None) -> Change:
    """Replay each (by id) as a new job, at most ``rate`` a second; one already replayed is refused unless
    ``force``."""

    def apply(selection: Selection, progress: Progress) -> object:
        return app.dlq.replay_ids(selection.ids, force=force, by=by, rate=rate, progress=progress)

    def render(result: BulkResult) -> Result:
        if result.outcome == "already_replayed":
            state = resolution_of(app, result.dead_letter_id)
            return _line(result, f"refused: already {state} (--force replays again)")
        return _line(result, NOTES.get(result.outcome))

    return Change("replay", "replayed", apply, render)


def abandon_change(app: App, *, note: str, by: str | None) -> Change:
    """Abandon each open (or pending-recovery) dead letter, with a note."""

    def apply(selection: Selection, progress: Progress) -> object:
        if selection.filters is None:
            return app.dlq.abandon_ids(selection.ids, note=note, by=by, progress=progress)
        return app.dlq.abandon_many(note=note, by=by, progress=progress, **selection.filters)

    def render(result: BulkResult) -> Result:
        if result.outcome == "already_resolved":
            return _line(result, f"refused: already {resolution_of(app, result.dead_letter_id)}")
        return _line(result, NOTES.get(result.outcome))

    return Change("abandon", "abandoned", apply, render)


NOTES = {"not_found": "not found", "unreadable_payload": "skipped: unreadable payload"}
"""How a letter left alone reads, where its state needs no look-up."""


def _line(result: BulkResult, note: str | None) -> Result:
    return Result(result.dead_letter_id, result.outcome, job_id=result.job_id, note=note)


def resolution_of(app: App, dead_letter_id: str) -> str:
    """What became of a dead letter: ``replayed as <job>``, ``abandoned``…"""
    letter = app.dlq.get(DeadLetterId(dead_letter_id))
    if letter is None:
        return "resolved"
    return f"{letter.resolution} as {letter.replayed_as}" if letter.replayed_as else letter.resolution


# -- running --------------------------------------------------------------------------------------


def say(ctx: Context, message: str) -> None:
    """A message for the operator: on stdout, or on stderr when stdout carries JSON."""
    click.echo(message, err=ctx.as_json)


def confirm(question: str, *, safety: Safety, past: str) -> None:
    """Ask unless ``--yes``; a no (or no answer) stops with nothing changed."""
    if not safety.yes and not click.confirm(question, default=False, err=True):
        raise Declined(f"aborted, nothing was {past}")


def run(ctx: Context, selection: Selection, change: Change, safety: Safety) -> None:
    """Count, stop there on ``--dry-run``, confirm, apply with progress, report each.

    Dead letters named by id are changed without a question: the operator already said which ones (a script
    replaying one letter must not need ``--yes``). A selection by filter is asked about first.
    """
    if not ready(ctx, selection.count, change, safety, ask=selection.filters is not None):
        return
    results, interrupted = _apply_all(selection, change)
    report(ctx, selection.count, change.past, results, interrupted=interrupted)
    if interrupted:
        sys.exit(130)
    if any(result.outcome != change.past for result in results):
        sys.exit(1)


def ready(ctx: Context, count: int, change: Change, safety: Safety, *, ask: bool = True) -> bool:
    """Say how many are selected; False when none are or on ``--dry-run``, else True (after a yes, if ``ask``)."""
    if count == 0 or safety.dry_run:
        if ctx.as_json:
            echo_json({"matched": count, "dry_run": safety.dry_run, change.past: 0, "results": []})
        say(ctx, f"{plural(count, 'dead letter')} selected" + ("; dry run, nothing was changed." if count else "."))
        return False
    say(ctx, f"{plural(count, 'dead letter')} selected.")
    if ask:
        confirm(f"{change.verb.capitalize()} {plural(count, 'dead letter')}?", safety=safety, past=change.past)
    return True


def _apply_all(selection: Selection, change: Change) -> tuple[list[Result], bool]:
    results: list[Result] = []
    try:
        with progress(selection.count, f"{change.verb.capitalize()}ing") as advance:

            def step(result: BulkResult) -> None:
                results.append(change.render(result))
                advance()

            change.apply(selection, step)
    except KeyboardInterrupt:
        return results, True
    return results, False


def describe(past: str, result: Result) -> str:
    """One line per dead letter: ``<id>  replayed as <job>``, ``<id>  refused: already abandoned``."""
    what = f"{past} as {result.job_id}" if result.job_id else result.note or result.outcome
    return f"{result.dead_letter_id}  {what}"


def report(
    ctx: Context,
    count: int,
    past: str,
    results: list[Result],
    *,
    interrupted: bool,
    extra: dict[str, Any] | None = None,
) -> None:
    """A line per dead letter and a summary (``past``: what was done, ``replayed``), or one JSON document."""
    done = sum(result.outcome == past for result in results)
    if ctx.as_json:
        echo_json({
            "matched": count, "dry_run": False, "interrupted": interrupted, past: done,
            "results": [dataclasses.asdict(result) for result in results], **(extra or {}),
        })  # fmt: skip
    else:
        for result in results:
            click.echo(describe(past, result))
    summary = f"{past.capitalize()} {done:,} of {plural(count, 'dead letter')}"
    if done < len(results):
        summary += f"; {len(results) - done:,} not {past} (see above)"
    if interrupted:
        summary += f"; interrupted after {len(results):,}, the rest were left as they were"
    say(ctx, summary + ".")


def run_counted(
    ctx: Context, *, matched: int, noun: str, question: str, past: str, safety: Safety, change: Callable[[], int]
) -> None:
    """For a change made in one call (purge, clear): the count, a dry run or a question, then the change."""
    if matched == 0 or safety.dry_run:
        if ctx.as_json:
            echo_json({"matched": matched, "dry_run": safety.dry_run, past: 0})
        say(ctx, _matches(matched, noun) + ("; dry run, nothing was changed." if matched else "."))
        return
    say(ctx, _matches(matched, noun) + ".")
    confirm(question, safety=safety, past=past)
    done = change()
    if ctx.as_json:
        echo_json({"matched": matched, "dry_run": False, past: done})
    say(ctx, f"{past.capitalize()} {plural(done, noun)}.")


def _matches(count: int, noun: str) -> str:
    return f"{plural(count, noun)} {'matches' if count == 1 else 'match'}"
