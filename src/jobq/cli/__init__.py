"""The ``jobq`` command line. Commands call ``App`` and ``app.dlq`` only, never SQL."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from jobq.cli.check import check
from jobq.cli.clear import clear
from jobq.cli.config import REDACT_TABLE, default_map, load_settings
from jobq.cli.context import Context, fail
from jobq.cli.control import cancel, periodic, queues
from jobq.cli.demo import demo
from jobq.cli.dlq import dlq
from jobq.cli.enqueue import enqueue
from jobq.cli.jobs import jobs
from jobq.cli.migrate import migrate
from jobq.cli.options import NO_REDACT_HELP, add_global_options
from jobq.cli.recover import recover
from jobq.cli.serve import serve
from jobq.cli.stats import stats
from jobq.cli.worker import worker
from jobq.errors import JobqError

EPILOG = """\b
Every option also reads the environment variable shown beside it, then
./jobq.toml or [tool.jobq] in ./pyproject.toml (keys are option names, one
table per command, e.g. [tool.jobq.check]). Precedence: flag, environment,
file, default. Payloads, error messages and tracebacks are shown with PII
redacted: [tool.jobq.redact] (keys, values, allow, enabled) configures it,
--no-redact shows them as stored.
\b
Shell completion (bash; likewise zsh_source, fish_source):
  eval "$(_JOBQ_COMPLETE=bash_source jobq)"
"""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "JOBQ", "max_content_width": 100},
    epilog=EPILOG,
)
@click.option("--url", envvar="JOBQ_URL", show_envvar=True, help="Database URL (default sqlite:///./jobq.db).")
@click.option("--app", "app_path", envvar="JOBQ_APP", show_envvar=True, metavar="MODULE:ATTR",
              help="Your app, e.g. myproject.tasks:app (the current directory is importable).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, envvar="JOBQ_JSON", show_envvar=True,
              help="Machine-readable output (SPEC key names).")  # fmt: skip
@click.option(
    "--busy-timeout",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    envvar="JOBQ_BUSY_TIMEOUT",
    show_envvar=True,
    metavar="SECONDS",
    help="How long to wait for a locked SQLite database (an --app keeps its own setting).",
)
@click.option("--no-redact", "no_redact", is_flag=True, envvar="JOBQ_NO_REDACT", show_envvar=True,
              help=NO_REDACT_HELP)  # fmt: skip
@click.version_option(package_name="jobq", prog_name="jobq")
@click.pass_context
def cli(
    ctx: click.Context, url: str | None, app_path: str | None, as_json: bool, busy_timeout: float, no_redact: bool
) -> None:
    """jobq: a persistent job queue that never loses a failed job."""
    redact_config = (ctx.default_map or {}).get(REDACT_TABLE, {})
    ctx.obj = Context(url=url, app_path=app_path, as_json=as_json, busy_timeout=busy_timeout, redact=not no_redact,
                      redact_config=redact_config)  # fmt: skip


for command in (worker, enqueue, stats, jobs, dlq, clear, recover, check, serve, migrate, demo, queues, periodic):
    cli.add_command(command)
cli.add_command(cancel)  # `jobq cancel ID`, as `jobq jobs cancel ID`
cli.add_command(queues, name="queue")  # `jobq queue pause NAME`, as `jobq queues pause NAME`


def _globals_everywhere(group: click.Group) -> None:
    """Every command also takes ``--url`` and ``--app`` after its name (SPEC 5's globals, where habit types them)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            _globals_everywhere(command)
        else:
            add_global_options(command)


_globals_everywhere(cli)


def main(args: list[str] | None = None, *, prog_name: str = "jobq") -> None:
    """Console entry point: one clear line on stderr for expected errors, never a traceback.

    ``args`` (default: the command line) and ``prog_name`` let another front end run it (``manage.py jobq``).
    """
    try:
        code = cli.main(args=args, prog_name=prog_name, standalone_mode=False, default_map=_settings())
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()
        code = exc.exit_code
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        fail(f"{exc.format_message()}{hint}", 2)
    except click.exceptions.Abort:
        fail("aborted, nothing was changed")
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except BrokenPipeError:
        _silence_broken_pipe()
        code = 1
    except (JobqError, ValueError, OSError) as exc:
        fail(str(exc) or type(exc).__name__)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        code = 130
    sys.exit(code if isinstance(code, int) else 0)


def _settings() -> dict[str, object] | None:
    """The configuration file's settings as click's default_map (a bad file is a usage error)."""
    try:
        found = load_settings(Path.cwd())
        if found is None:
            return None
        path, settings = found
        table = "" if path.name == "jobq.toml" else "tool.jobq"
        return default_map(cli, settings, where=path.name, table=table)
    except JobqError as exc:
        fail(str(exc), 2)


def _silence_broken_pipe() -> None:
    """``jobq dlq export | head``: the reader left; say nothing more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
