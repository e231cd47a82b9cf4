"""``jobq worker``: run jobs."""

from __future__ import annotations

import logging

import click

from jobq.cli.context import Context


@click.command()
@click.option(
    "--queues",
    "-q",
    envvar="JOBQ_QUEUES",
    show_envvar=True,
    help="Comma-separated queues, in priority order (default: all).",
)
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    envvar="JOBQ_CONCURRENCY",
    show_envvar=True,
    help="Jobs run at once.",
)
@click.option(
    "--burst", is_flag=True, envvar="JOBQ_BURST", show_envvar=True, help="Exit once nothing is due and nothing runs."
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    envvar="JOBQ_GRACE",
    show_envvar=True,
    help="Seconds running jobs get to finish on SIGTERM.",
)
@click.pass_obj
def worker(ctx: Context, queues: str | None, concurrency: int, burst: bool, grace: float) -> None:
    """Run a worker for the tasks of --app."""  # fmt: skip
    if not ctx.app_path:
        raise click.UsageError("jobq worker needs --app module:attribute (or JOBQ_APP) to find your tasks")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    names = [name.strip() for name in queues.split(",") if name.strip()] if queues else None
    summary = ctx.app(create=True).run_worker(concurrency=concurrency, queues=names, burst=burst, grace=grace)
    click.echo(
        f"{summary.succeeded} succeeded, {summary.retried} retried, {summary.dead} dead, "
        f"{summary.released} released", err=True,
    )  # fmt: skip
