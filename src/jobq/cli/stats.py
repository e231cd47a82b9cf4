"""``jobq stats``: the counts of the queue and the DLQ."""

from __future__ import annotations

import click

from jobq.cli.context import Context
from jobq.cli.details import show_stats
from jobq.cli.options import json_option
from jobq.cli.output import echo_json


@click.command()
@json_option
@click.pass_obj
def stats(ctx: Context) -> None:
    """Counts of the queues and the dead-letter queue."""
    numbers = ctx.app().stats()
    if ctx.as_json:
        echo_json(numbers)
    else:
        show_stats(numbers)
