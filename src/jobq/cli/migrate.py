"""``jobq migrate``: create or upgrade the schema."""

from __future__ import annotations

import click

from jobq.cli.context import Context
from jobq.cli.options import json_option
from jobq.cli.output import echo_json


@click.command()
@json_option
@click.pass_obj
def migrate(ctx: Context) -> None:
    """Create or upgrade the database schema.

    Also done automatically on first use; this is for deployments that migrate explicitly.
    """
    app = ctx.app(create=True)
    version = app.migrate()
    if ctx.as_json:
        echo_json({"url": app.url, "version": version})
    else:
        click.echo(f"{app.url}: schema at version {version}")
