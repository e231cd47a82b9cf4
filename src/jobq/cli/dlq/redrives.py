"""``jobq dlq redrives list | show | cancel | resume``: bulk replays by filter, kept as records.

``jobq dlq replay --all`` starts a redrive; these commands follow it from any terminal: how far it got, what
became of its replays (succeeded, died again, and with which failure), stop it, and go on with it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from jobq.cli.bulk import confirm, say
from jobq.cli.context import Context
from jobq.cli.details import fields_table
from jobq.cli.listings import listing
from jobq.cli.options import Safety, by_option, json_option, limit_option, no_redact_option, option
from jobq.cli.output import (
    console,
    echo_json,
    filter_flags,
    plural,
    record_json,
    relative,
    show,
    shown_filter,
    text,
    timestamp,
)
from jobq.cli.redrive_run import drive, resume_hint
from jobq.errors import JobqError, NotFound
from jobq.redrive import Redrive, RedriveId, RedriveOutcome

if TYPE_CHECKING:
    from rich.console import Group

STATE_STYLES = {"running": "cyan", "cancelled": "yellow", "finished": "green"}


@click.group()
def redrives() -> None:
    """Bulk replays by filter: progress, outcome, cancel, resume.

    `jobq dlq replay --all` starts one, and prints its id.
    """


@redrives.command(name="list")
@limit_option
@json_option
@no_redact_option()
@click.pass_obj
def list_redrives(ctx: Context, limit: int, cursor: str | None) -> None:
    """Redrives, newest first.

    Their state, who started them and when, how far they got, and their filter.
    """
    found = ctx.app().dlq.list_redrives(limit=limit + 1, cursor=None if cursor is None else RedriveId(cursor))
    next_cursor = found[limit - 1].id if len(found) > limit else None
    page = [_shown(ctx, redrive) for redrive in found[:limit]]
    if ctx.as_json:
        echo_json({"redrives": [record_json(redrive) for redrive in page], "next_cursor": next_cursor})
    elif not page:
        click.echo("No redrives yet: `jobq dlq replay --all` starts one.")
    else:
        show(redrives_table(page))
        more = f"; next page: --cursor {next_cursor}" if next_cursor else ""
        click.echo(f"{plural(len(page), 'redrive')} shown, newest first{more}")


def redrives_table(found: Sequence[Redrive]) -> Group:
    """Redrives: id, state, who, when (relative), matched / replayed / skipped, and the filter."""
    now = time.time()
    rows = [
        ([text(redrive.id), text(redrive.state, STATE_STYLES.get(redrive.state, "")), text(redrive.started_by),
          text(relative(redrive.created_at, now)), text(f"{redrive.matched:,}"), text(f"{redrive.replayed:,}"),
          text(f"{redrive.skipped:,}")],
         text(selection(redrive)))
        for redrive in found
    ]  # fmt: skip
    # "by", not "started by": with the 26 characters of an id, the row then fits 80 columns.
    headers = ("id", "state", "by", "started", "matched", "replayed", "skipped", "filter")
    return listing(headers, rows, uncut=("state", "matched", "replayed", "skipped"))


def _shown(ctx: Context, redrive: Redrive) -> Redrive:
    """A redrive with its filter as ``shown_filter`` makes it: times as datetimes, the searched text redacted."""
    return dataclasses.replace(redrive, filters=shown_filter(ctx.redactor(), redrive.filters))


def selection(redrive: Redrive) -> str:
    """What a redrive replays, as the options of ``dlq replay --all``: ``--tenant acme --force --rate 5``."""
    flags = filter_flags(redrive.filters, pinned_at=redrive.created_at)
    flags += " --force" if redrive.force else ""
    flags += f" --rate {redrive.rate:g}" if redrive.rate else ""
    return flags.strip() or "(every unresolved dead letter)"


@redrives.command(name="show")
@click.argument("redrive_id", metavar="ID")
@json_option
@no_redact_option()
@click.pass_obj
def show_redrive(ctx: Context, redrive_id: str) -> None:
    """One redrive: its progress, and its outcome by fingerprint.

    Of the letters it replayed: how many succeeded, died again (and with which fingerprints), are still
    pending, or are unknown (their job was cleared).
    """
    app = ctx.app()
    redrive = app.dlq.get_redrive(RedriveId(redrive_id))
    if redrive is None:
        raise NotFound(f"no redrive {redrive_id}")
    outcome = app.dlq.redrive_outcome(RedriveId(redrive_id))
    redrive = _shown(ctx, redrive)
    if ctx.as_json:
        echo_json({**record_json(redrive), "outcome": [record_json(fingerprint) for fingerprint in outcome]})
        return
    left = max(redrive.matched - redrive.replayed - redrive.skipped, 0)
    runner = [("run by", redrive.owner)] if redrive.state == "running" else []
    show(fields_table([
        ("redrive", redrive.id), ("state", text(redrive.state, STATE_STYLES.get(redrive.state, ""))),
        ("started by", redrive.started_by), ("started", timestamp(redrive.created_at)),
        ("last step", timestamp(redrive.updated_at)), ("filter", selection(redrive)),
        ("progress", f"{redrive.replayed:,} replayed, {redrive.skipped:,} skipped of {redrive.matched:,} matched"
                     + (f" ({left:,} left)" if redrive.state != "finished" else "")),
        *runner,
    ]))  # fmt: skip
    if outcome:
        console().print(text("\nOutcome by fingerprint", "bold"))
        show(outcome_table(outcome))
        click.echo(outcome_summary(outcome))
    if redrive.state == "cancelled":
        click.echo(f"\nStopped: {resume_hint(redrive.id)}.")
    elif redrive.state == "running":
        click.echo(f"\nRunning: `jobq dlq redrives cancel {redrive.id}` stops it; if its process is gone, "
                   f"`jobq dlq redrives resume {redrive.id}` takes it over.")  # fmt: skip


def outcome_table(outcome: Sequence[RedriveOutcome]) -> Group:
    """Per fingerprint replayed: succeeded, died again, pending, unknown, and the fingerprints they died with."""
    rows = [
        ([text(found.fingerprint), text(f"{found.replayed:,}"), text(f"{found.succeeded:,}", "green"),
          text(f"{found.died_again:,}", "red" if found.died_again else ""), text(f"{found.pending:,}"),
          text(f"{found.unknown:,}")],
         text(", ".join(f"{fingerprint} ({count:,})" for fingerprint, count in found.died_with.items())))
        for found in outcome
    ]  # fmt: skip
    headers = ("fingerprint", "replayed", "succeeded", "died again", "pending", "unknown", "died with")
    return listing(headers, rows)


def outcome_summary(outcome: Sequence[RedriveOutcome]) -> str:
    """``Of 3 replayed: 2 succeeded, 1 died again, 0 pending, 0 unknown.``"""
    total = {name: sum(getattr(found, name) for found in outcome)
             for name in ("replayed", "succeeded", "died_again", "pending", "unknown")}  # fmt: skip
    return (
        f"Of {total['replayed']:,} replayed: {total['succeeded']:,} succeeded, {total['died_again']:,} died again, "
        f"{total['pending']:,} pending, {total['unknown']:,} unknown."
    )


@redrives.command()
@click.argument("redrive_id", metavar="ID")
@json_option
@click.pass_obj
def cancel(ctx: Context, redrive_id: str) -> None:
    """Stop a running redrive, from any terminal.

    It stops before its next letter; `jobq dlq redrives resume ID` goes on with it.
    """
    app = ctx.app()
    cancelled = app.dlq.cancel_redrive(RedriveId(redrive_id))  # NotFound for an unknown id
    redrive = app.dlq.get_redrive(RedriveId(redrive_id))
    assert redrive is not None, "redrives are never deleted"
    if not cancelled:
        raise JobqError(f"redrive {redrive_id} is not running (it is {redrive.state})")
    if ctx.as_json:
        echo_json(record_json(_shown(ctx, redrive)))
    else:
        click.echo(f"Cancelled redrive {redrive_id}: it stops before its next letter; {resume_hint(redrive_id)}.")


@redrives.command()
@click.argument("redrive_id", metavar="ID")
@by_option
@option("--yes", "-y", is_flag=True, help="Resume without asking.")
@json_option
@click.pass_obj
def resume(ctx: Context, redrive_id: str, by: str | None, yes: bool) -> None:
    """Go on with a redrive where it stopped.

    After the last letter it handled, with its filter, --force and --rate. One still marked running is taken
    over: its process died, or stops before its next letter.
    """
    app = ctx.app()
    redrive = app.dlq.get_redrive(RedriveId(redrive_id))
    if redrive is None:
        raise NotFound(f"no redrive {redrive_id}")
    if redrive.state == "finished":
        raise JobqError(f"redrive {redrive_id} is finished: nothing is left to resume")
    left = max(redrive.matched - redrive.replayed - redrive.skipped, 0)
    say(ctx, f"Redrive {redrive_id} is {redrive.state}: {redrive.replayed:,} replayed, {redrive.skipped:,} skipped "
             f"of {redrive.matched:,} matched, about {left:,} left.")  # fmt: skip
    question = "Take it over and go on?" if redrive.state == "running" else "Resume it?"
    confirm(question, safety=Safety(dry_run=False, yes=yes), past="replayed")
    drive(
        ctx, app, left,
        lambda step, started: app.dlq.resume_redrive(RedriveId(redrive_id), by=by, progress=step, started=started),
        redrive_id=redrive_id,
    )  # fmt: skip
