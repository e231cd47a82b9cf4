"""``jobq dlq export | import``: move dead letters out and in (JSON Lines or CSV)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Literal

import click

from jobq.cli.context import Context
from jobq.cli.options import dead_letter_filters, json_option, no_redact_option, option
from jobq.cli.output import echo_json, plural

EXPORT_NO_REDACT_HELP = "Export as stored, PII included: the faithful copy, for backups and `jobq dlq import`."


@click.command()
@dead_letter_filters
@option("--format", "format", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True,
        help="JSON Lines (everything; re-import a --no-redact export) or CSV (one line per dead letter, "
             "no payload).")  # fmt: skip
@option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE (default: stdout).")
@json_option
@no_redact_option(EXPORT_NO_REDACT_HELP)
@click.pass_obj
def export(ctx: Context, filters: dict[str, Any], format: Literal["jsonl", "csv"], output: Path | None) -> None:
    """Write dead letters to JSON Lines or CSV, PII redacted.

    JSON Lines carries everything (payloads, error histories). For a backup, or to move dead letters to
    another database with `jobq dlq import`, export with --no-redact: a redacted copy would replay with
    "[redacted]" in place of phone numbers.
    """
    app = ctx.app()
    redactor = ctx.redactor(app)
    if output is None:
        app.dlq.export(sys.stdout, format=format, redactor=redactor, **filters)
        return
    count = export_to(output, lambda fp: app.dlq.export(fp, format=format, redactor=redactor, **filters))
    if ctx.as_json:
        echo_json({"exported": count, "path": str(output), "format": format})
    else:
        click.echo(f"Exported {plural(count, 'dead letter')} to {output}.")


def export_to(path: Path, write: Callable[[IO[str]], int]) -> int:
    """Write through a temporary file renamed at the end: a failed export leaves no half file behind."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="") as fp:
            count = write(fp)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count


@click.command(name="import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@json_option
@click.pass_obj
def import_dead(ctx: Context, file: IO[str]) -> None:
    """Read dead letters from a JSON Lines export (- for stdin).

    All or nothing: one bad line stores nothing. Ids already present are skipped.
    """
    content = file.read()
    lines = sum(1 for line in content.splitlines() if line.strip())
    imported = ctx.app(create=True).dlq.import_(io.StringIO(content))
    if ctx.as_json:
        echo_json({"imported": imported, "skipped": lines - imported})
    else:
        click.echo(f"Imported {plural(imported, 'dead letter')} ({lines - imported:,} already there, skipped).")
