"""``jobq enqueue``: queue one job by task name."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click

from jobq.cli.context import Context
from jobq.cli.options import option
from jobq.cli.output import echo_json
from jobq.cli.params import Duration, JsonArgument


@click.command()
@click.argument("task")
@option("--args", "args", type=JsonArgument(list), help="Positional arguments as a JSON array.")
@option("--kwargs", "kwargs", type=JsonArgument(dict), help="Keyword arguments as a JSON object.")
@option("--queue", "-q", help="Queue (default: the task's, else default).")
@option("--tenant", help="The owning app or customer.")
@option("--key", help="A domain key to find the job by.")
@option("--delay", type=Duration(), help="Run after this long: seconds, or 30s, 15m, 2h.")
@option("--priority", type=int, help="Higher runs first (default: the task's, else 0).")
@option("--unique-key", help="While a job with this key is pending, return it instead of adding one.")
@option("--max-attempts", type=click.IntRange(min=1), help="Attempts before the DLQ (default: the task's).")
@click.pass_obj
def enqueue(
    ctx: Context,
    task: str,
    args: list[Any] | None,
    kwargs: dict[str, Any] | None,
    queue: str | None,
    tenant: str | None,
    key: str | None,
    delay: timedelta | None,
    priority: int | None,
    unique_key: str | None,
    max_attempts: int | None,
) -> None:
    """Queue a job of TASK (by name); print its id.

    With --app, the arguments are checked against the task's signature first.
    """
    job_id = ctx.app(create=True).enqueue(
        task, kwargs or {}, args=args or (), queue=queue, tenant=tenant, key=key, delay=delay, priority=priority,
        unique_key=unique_key, max_attempts=max_attempts,
    )  # fmt: skip
    if ctx.as_json:
        echo_json({"id": job_id})
    else:
        click.echo(job_id)
