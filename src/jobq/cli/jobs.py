"""``jobq jobs``: browse the main queue."""

from __future__ import annotations

from typing import Any

import click

from jobq.cli.context import Context
from jobq.cli.control import cancel
from jobq.cli.details import show_job
from jobq.cli.listings import jobs_table
from jobq.cli.options import job_filters, json_option, limit_option, no_redact_option
from jobq.cli.output import echo_json, job_json, plural, show
from jobq.errors import NotFound


@click.group()
def jobs() -> None:
    """Browse the jobs of the main queue."""


@jobs.command(name="list")
@job_filters
@limit_option
@json_option
@no_redact_option()
@click.pass_obj
def list_jobs(ctx: Context, filters: dict[str, Any], limit: int, cursor: str | None) -> None:
    """Jobs, newest first, with their state and last error (PII redacted unless --no-redact)."""
    found = ctx.app().list_jobs(limit=limit + 1, cursor=cursor, **filters)
    next_cursor = found[limit - 1].id if len(found) > limit else None
    redactor = ctx.redactor()
    page = [redactor.job(job) for job in found[:limit]]
    if ctx.as_json:
        echo_json({"jobs": [job_json(job) for job in page], "next_cursor": next_cursor})
        return
    if not page:
        click.echo("No jobs match.")
        return
    show(jobs_table(page))
    more = f"; next page: --cursor {next_cursor}" if next_cursor else ""
    click.echo(f"{plural(len(page), 'job')}{more}")


@jobs.command()
@click.argument("job_id", metavar="ID")
@json_option
@no_redact_option()
@click.pass_obj
def inspect(ctx: Context, job_id: str) -> None:
    """One job in full: state, times, payload, error history (PII redacted unless --no-redact)."""
    found = ctx.app().get_job(job_id)
    if found is None:
        raise NotFound(f"no job {job_id}")
    job = ctx.redactor().job(found)
    if ctx.as_json:
        echo_json(job_json(job))
    else:
        show_job(job)


jobs.add_command(cancel)
