"""The ``jobq`` command line. Commands call ``App`` and ``app.dlq`` only, never SQL."""

from __future__ import annotations

import sys

import click

from jobq.cli.context import Context, fail
from jobq.cli.demo import demo
from jobq.cli.worker import worker
from jobq.errors import JobqError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "JOBQ"})
@click.option("--url", envvar="JOBQ_URL", show_envvar=True, help="Database URL (default sqlite:///./jobq.db).")
@click.option("--app", "app_path", envvar="JOBQ_APP", show_envvar=True, help="Your app, as module:attribute.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.version_option(package_name="jobq", prog_name="jobq")
@click.pass_context
def cli(ctx: click.Context, url: str | None, app_path: str | None, as_json: bool) -> None:
    """jobq: a persistent job queue that never loses a failed job."""
    ctx.obj = Context(url=url, app_path=app_path, as_json=as_json)


cli.add_command(worker)
cli.add_command(demo)


def main() -> None:
    """Console entry point: one clear line on stderr for expected errors, never a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (JobqError, ValueError, OSError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        sys.exit(130)
