"""``jobq dlq list | inspect | groups``: read the dead-letter queue."""

from __future__ import annotations

from typing import Any, Literal, cast

import click

from jobq.cli.context import Context
from jobq.cli.details import show_dead_letter
from jobq.cli.dlq.audit import redacted_entry, show_trail
from jobq.cli.listings import dead_letters_table, groups_table
from jobq.cli.options import dead_letter_filters, json_option, limit_option, no_redact_option, option
from jobq.cli.output import dead_letter_json, echo_json, group_json, plural, redacted_groups, show
from jobq.errors import NotFound
from jobq.job import DeadLetterId

GroupBy = Literal["fingerprint", "task", "class", "tenant", "queue"]
GROUP_BY: tuple[GroupBy, ...] = ("fingerprint", "task", "class", "tenant", "queue")


@click.command(name="list")
@dead_letter_filters
@limit_option
@option("--with-payload", is_flag=True, help="Include payloads, error histories and tracebacks (JSON).")
@json_option
@no_redact_option()
@click.pass_obj
def list_dead(ctx: Context, filters: dict[str, Any], limit: int, cursor: str | None, with_payload: bool) -> None:
    """Dead letters, newest first (PII redacted unless --no-redact)."""
    app = ctx.app()
    page = app.dlq.list(
        limit=limit, cursor=None if cursor is None else DeadLetterId(cursor), with_payload=with_payload, **filters
    )
    redactor = ctx.redactor(app)
    letters = [redactor.dead_letter(letter) for letter in page]
    if ctx.as_json:
        rows = [dead_letter_json(letter, full=with_payload) for letter in letters]
        echo_json({"dead_letters": rows, "next_cursor": page.next_cursor})
        return
    if not letters:
        click.echo("No dead letters match.")
        return
    show(dead_letters_table(letters))
    total = app.dlq.count(**filters) if page.next_cursor or cursor else len(page)
    more = f"; next page: --cursor {page.next_cursor}" if page.next_cursor else ""
    click.echo(f"{len(page):,} of {plural(total, 'dead letter')}{more}")


@click.command()
@click.argument("dead_letter_id", metavar="ID")
@json_option
@no_redact_option()
@click.pass_obj
def inspect(ctx: Context, dead_letter_id: str) -> None:
    """One dead letter in full: payload, history, tracebacks, and who changed it (PII redacted unless --no-redact)."""
    app = ctx.app()
    found = app.dlq.get(DeadLetterId(dead_letter_id))
    if found is None:
        raise NotFound(f"no dead letter {dead_letter_id}")
    redactor = ctx.redactor(app)
    letter = redactor.dead_letter(found)
    if ctx.as_json:
        echo_json(dead_letter_json(letter))
        return
    show_dead_letter(letter)
    trail = app.dlq.audit_trail(DeadLetterId(dead_letter_id))
    if trail:
        show_trail(dead_letter_id, [redacted_entry(redactor, entry) for entry in trail])


@click.command()
@option("--by", type=click.Choice(GROUP_BY), default="fingerprint", show_default=True, help="What to group by.")
@dead_letter_filters
@option("--limit", "-n", type=click.IntRange(1, 10_000), default=50, show_default=True, help="How many groups.")
@json_option
@no_redact_option()
@click.pass_obj
def groups(ctx: Context, by: str, filters: dict[str, Any], limit: int) -> None:
    """Count dead letters per fingerprint, task, class, tenant or queue.

    A fingerprint is one failure across jobs (same error, normalised message, failing function).
    """
    found = redacted_groups(ctx.redactor(), ctx.app().dlq.groups(cast(GroupBy, by), limit=limit, **filters))
    if ctx.as_json:
        echo_json({"by": by, "groups": [group_json(group) for group in found]})
    elif not found:
        click.echo("No dead letters match.")
    else:
        show(groups_table(found, by))
