"""``jobq dlq replay | abandon | purge``: act on dead letters, by id or by filter, safely."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import click

from jobq.cli.bulk import abandon_change, pin, ready, replay_change, run, run_counted, select
from jobq.cli.context import Context
from jobq.cli.options import (
    Safety,
    Selector,
    by_option,
    dead_letter_filters,
    json_option,
    option,
    safety_options,
    selection_options,
)
from jobq.cli.params import Duration
from jobq.cli.redrive_run import drive


@click.command()
@selection_options
@option("--force", is_flag=True, help="Replay even dead letters replayed before (with --all: in any state).")
@option("--rate", type=click.FloatRange(min=0, min_open=True), metavar="PER_SECOND",
        help="At most this many replays per second.")  # fmt: skip
@by_option
@safety_options
@json_option
@click.pass_obj
def replay(ctx: Context, selector: Selector, force: bool, rate: float | None, by: str | None, safety: Safety) -> None:
    """Queue dead letters again as new jobs (alias: retry).

    Give IDs, or --all with filters (unresolved ones unless --resolution or --force says otherwise). Prints what
    happened to each: replayed as a new job, refused (already replayed), or not found.

    --all is recorded as a redrive: its id is printed first, `jobq dlq redrives cancel ID` stops it from another
    terminal (as Ctrl-C does), `jobq dlq redrives resume ID` goes on where it stopped.
    """
    app = ctx.app()
    selection = select(app, selector, unresolved_only=not force)
    change = replay_change(app, force=force, by=by, rate=rate)
    filters = selection.filters
    if filters is None:
        run(ctx, selection, change, safety)
    elif ready(ctx, selection.count, change, safety):
        drive(ctx, app, selection.count,
              lambda step, started: app.dlq.replay_many(rate=rate, force=force, by=by, progress=step, started=started,
                                                        **filters))  # fmt: skip


@click.command()
@selection_options
@option("--note", required=True, help="Why: kept on each dead letter.")
@by_option
@safety_options
@json_option
@click.pass_obj
def abandon(ctx: Context, selector: Selector, note: str, by: str | None, safety: Safety) -> None:
    """Give up on dead letters, with a note.

    Give IDs, or --all with filters (unresolved ones unless --resolution says otherwise).
    """
    app = ctx.app()
    selection = select(app, selector, unresolved_only=True)
    run(ctx, selection, abandon_change(app, note=note, by=by), safety)


@click.command()
@dead_letter_filters
@option("--older-than", type=Duration(bare_unit=None), default="30d", show_default=True,
        help="Delete dead letters that failed longer ago than this (30s, 15m, 12h, 30d, 2w).")  # fmt: skip
@by_option
@safety_options
@json_option
@click.pass_obj
def purge(ctx: Context, filters: dict[str, Any], older_than: timedelta, by: str | None, safety: Safety) -> None:
    """Delete old dead letters for good (retention).

    Those that failed longer ago than --older-than (30 days by default), narrowed by the filters. The audit log
    (`jobq dlq audit`) keeps who purged how many, and with which filter.
    """
    app = ctx.app()
    now = datetime.now(UTC)
    filters = pin(filters, now=now)
    filters["until"] = min(filters["until"], now - older_than)
    cutoff = filters["until"].astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    run_counted(
        ctx, matched=app.dlq.count(**filters), noun="dead letter", past="purged", safety=safety,
        question=f"Delete them (failed before {cutoff}) for good?", change=lambda: app.dlq.purge(by=by, **filters),
    )  # fmt: skip
