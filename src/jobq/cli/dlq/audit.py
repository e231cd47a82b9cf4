"""``jobq dlq audit [ID]``: who replayed, abandoned or purged what, and when; edited payloads in full."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import click

from jobq.audit import AuditEntry
from jobq.cli.context import Context
from jobq.cli.listings import listing
from jobq.cli.options import json_option, limit_option, no_redact_option
from jobq.cli.output import console, echo_json, filter_flags, one_line, plural, record_json, show, shown_filter, text
from jobq.errors import NotFound
from jobq.job import DeadLetterId
from jobq.redact import Redactor

if TYPE_CHECKING:
    from rich.console import Group

ACTION_STYLES = {"replayed": "green", "abandoned": "yellow", "purged": "red"}


@click.command()
@click.argument("dead_letter_id", metavar="[ID]", required=False)
@limit_option
@json_option
@no_redact_option()
@click.pass_obj
def audit(ctx: Context, dead_letter_id: str | None, limit: int, cursor: str | None) -> None:
    """Who replayed, abandoned or purged what, and when.

    With ID, that dead letter's audit trail: its replays and abandons, oldest first, with edited payloads in
    full (PII redacted unless --no-redact). Without, the audit log: every replay, abandon and purge, newest
    first (--limit, --cursor).
    """
    if dead_letter_id is not None:
        _trail(ctx, dead_letter_id)
        return
    app = ctx.app()
    found = app.dlq.audit_log(limit=limit + 1, cursor=cursor)
    next_cursor = found[limit - 1].id if len(found) > limit else None
    entries = [redacted_entry(ctx.redactor(app), entry) for entry in found[:limit]]
    if ctx.as_json:
        echo_json({"audit": [record_json(entry) for entry in entries], "next_cursor": next_cursor})
    elif not entries:
        click.echo("The audit log is empty.")
    else:
        show(audit_table(entries, with_letter=True))
        more = f"; next page: --cursor {next_cursor}" if next_cursor else ""
        click.echo(f"{plural(len(entries), 'change')} shown, newest first{more}")


def _trail(ctx: Context, dead_letter_id: str) -> None:
    app = ctx.app()
    found = app.dlq.audit_trail(DeadLetterId(dead_letter_id))
    if not found and app.dlq.get(DeadLetterId(dead_letter_id)) is None:  # a purged letter keeps its trail
        raise NotFound(f"no dead letter {dead_letter_id}")
    entries = [redacted_entry(ctx.redactor(app), entry) for entry in found]
    if ctx.as_json:
        echo_json({"dead_letter_id": dead_letter_id, "audit": [record_json(entry) for entry in entries]})
    elif not entries:
        click.echo(f"Nothing was done to {dead_letter_id} yet.")
    else:
        show(audit_table(entries))
        _show_edits(entries)


def redacted_entry(redactor: Redactor, entry: AuditEntry) -> AuditEntry:
    """An entry to show: an edited replay's payloads and an abandon's note redacted, as the dead letter's are,
    and a purge's filter as ``shown_filter`` makes it."""
    detail = dict(entry.detail)
    for key in ("original_payload", "payload"):
        if key in detail:
            detail[key] = redactor.payload(detail[key])
    if isinstance(detail.get("note"), str):
        detail["note"] = redactor.text(detail["note"])
    if isinstance(detail.get("filters"), Mapping):
        detail["filters"] = shown_filter(redactor, detail["filters"])
    return dataclasses.replace(entry, detail=detail)


def audit_table(entries: Sequence[AuditEntry], *, with_letter: bool = False) -> Group:
    """One row per change: when (local time), the action, who, the dead letter (for the log) and what it did."""
    headers = ("when", "action", "by", *(("dead letter",) if with_letter else ()), "detail")
    rows = []
    for entry in entries:
        cells = [
            text(entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
            text(entry.action, ACTION_STYLES.get(entry.action, "")),
            text(entry.by),
        ]
        if with_letter:
            cells.append(text(entry.dead_letter_id))
        rows.append((cells, text(one_line(describe_entry(entry)))))
    return listing(headers, rows, wrap=True)  # the detail is what an audit is read for


def describe_entry(entry: AuditEntry) -> str:
    """``as job 01…, forced, payload edited, by redrive 01…``; ``note: …``; ``2 dead letters deleted (--until …)``."""
    detail = entry.detail
    if entry.action == "purged":
        flags = filter_flags(detail.get("filters", {}))
        return f"{plural(detail.get('count', 0), 'dead letter')} deleted" + (f" ({flags})" if flags else "")
    if entry.action == "abandoned":
        return f"note: {detail['note']}" if detail.get("note") else "no note"
    parts = [f"as job {detail.get('job_id')}"]
    if detail.get("force"):
        parts.append("forced")
    if "payload" in detail:
        parts.append("payload edited")
    if detail.get("redrive_id"):
        parts.append(f"by redrive {detail['redrive_id']}")
    return ", ".join(parts)


def _show_edits(entries: Sequence[AuditEntry]) -> None:
    from rich.json import JSON

    out = console()
    for entry in entries:
        if "payload" not in entry.detail:
            continue
        when = entry.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        out.print(text(f"\nEdited replay, {when} by {entry.by or 'someone unnamed'}", "bold"))
        for title, key in (("original payload", "original_payload"), ("replayed with", "payload")):
            out.print(text(title, "bold"))
            out.print(JSON.from_data(entry.detail.get(key), indent=2, ensure_ascii=False))


def show_trail(dead_letter_id: str, entries: Sequence[AuditEntry]) -> None:
    """The audit trail as a section at the end of ``dlq inspect``."""
    console().print(text("\nAudit trail", "bold"))
    show(audit_table(entries))
    if any("payload" in entry.detail for entry in entries):
        click.echo(f"The edited payloads: jobq dlq audit {dead_letter_id}")
