"""Options several commands share: filters, ``--json``, ``--by``, and the safety switches of bulk changes.

Every option names its environment variable in ``--help`` (click derives ``JOBQ_<COMMAND>_<OPTION>``).
Shared options reach the command as one value (``filters``, ``bulk``) instead of a dozen parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from jobq.cli.context import Context
from jobq.cli.params import Moment
from jobq.job import ERROR_CLASSES, JOB_STATUSES, RESOLUTIONS

F = TypeVar("F", bound=Callable[..., Any])


def option(*names: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` that shows its environment variable in ``--help``."""
    attrs.setdefault("show_envvar", True)
    return click.option(*names, **attrs)


def _set_json(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Context).as_json = True


def json_option(fn: F) -> F:
    """``--json`` after the command, as well as before it."""
    return option("--json", is_flag=True, expose_value=False, callback=_set_json,
                  help="Print JSON (SPEC key names) instead of tables.")(fn)  # fmt: skip


def _set_global(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    # Only a flag given here counts: the group has already read the environment, and must keep its own flag
    # ranking above it. Given here, the flag wins over the group's.
    if value is not None and param.name and ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
        setattr(ctx.ensure_object(Context), param.name, value)


GLOBAL_OPTIONS = (
    ("--url", "url", "JOBQ_URL", "URL", "Database URL, as `jobq --url` (default sqlite:///./jobq.db)."),
    ("--app", "app_path", "JOBQ_APP", "MODULE:ATTR", "Your app, as `jobq --app`, e.g. myproject.tasks:app."),
)


def add_global_options(command: click.Command) -> None:
    """``--url`` and ``--app`` after the command as well as before it: ``jobq worker --app tasks:app`` is how
    celery and procrastinate users type it."""
    for flag, name, envvar, metavar, help in GLOBAL_OPTIONS:
        if not any(flag in param.opts for param in command.params):
            command.params.append(click.Option([flag, name], metavar=metavar, expose_value=False, envvar=envvar,
                                               show_envvar=True, callback=_set_global, help=help))  # fmt: skip


NO_REDACT_HELP = "Show payloads, error messages and tracebacks as stored, PII included (jobq serve ignores it)."


def _set_no_redact(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Context).redact = False


def no_redact_option(help: str = NO_REDACT_HELP) -> Callable[[F], F]:
    """``--no-redact`` after the command, as well as before it (the same ``JOBQ_NO_REDACT``)."""
    return option("--no-redact", is_flag=True, expose_value=False, callback=_set_no_redact, envvar="JOBQ_NO_REDACT",
                  help=help)  # fmt: skip


def os_user() -> str | None:
    """The OS user name, or None when the system cannot say (no passwd entry and no ``USER``)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # OSError from 3.13, KeyError before: either way, nobody is named
        return None


def _named(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None  # --by '' names nobody


def by_option(fn: F) -> F:
    """``--by NAME``: who makes a change, kept in the audit trail; passed to the command as ``by``."""
    return option("--by", metavar="NAME", envvar="JOBQ_BY", default=os_user, show_default="your OS user name",
                  callback=_named, help="Who makes the change, for the audit trail.")(fn)  # fmt: skip


def limit_option(fn: F) -> F:
    """``--limit N`` (default 50) and ``--cursor ID`` for one page of a listing."""
    fn = option("--cursor", metavar="ID", help="Start after this id (printed under the previous page).")(fn)
    return option("--limit", "-n", type=click.IntRange(1, 10_000), default=50, show_default=True,
                  help="How many to show.")(fn)  # fmt: skip


_DEAD_LETTER_FILTERS: list[Callable[[F], F]] = [
    option("--tenant", help="Only this tenant."),
    option("--task", help="Only this task."),
    option("--queue", help="Only this queue."),
    option("--class", "class", type=click.Choice(ERROR_CLASSES), help="Only this error class."),
    option("--fingerprint", help="Only this failure (see `jobq dlq groups`)."),
    option("--resolution", type=click.Choice(RESOLUTIONS), help="Only dead letters in this state."),
    option("--since", type=Moment(), help="Failed at or after: a duration ago (2h, 7d) or an ISO time."),
    option("--until", type=Moment(), help="Failed before: a duration ago (2h, 7d) or an ISO time."),
    option("--search", metavar="TEXT", help="Text in the error message (case-insensitive)."),
]
_FILTER_KEYS = {"class": "error_class"}


def dead_letter_filters(fn: F) -> F:
    """The filters of ``app.dlq.list``, passed to the command as ``filters`` (a dict without the unset ones)."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        filters: dict[str, Any] = {}
        for name in ("tenant", "task", "queue", "class", "fingerprint", "resolution", "since", "until", "search"):
            value = kwargs.pop(name)
            if value is not None:
                filters[_FILTER_KEYS.get(name, name)] = value
        return fn(*args, filters=filters, **kwargs)

    for decorate in reversed(_DEAD_LETTER_FILTERS):
        command = decorate(command)
    return command  # type: ignore[return-value]


def job_filters(fn: F) -> F:
    """The filters of ``app.list_jobs``, passed to the command as ``filters``."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        names = ("status", "queue", "task", "tenant", "key")
        filters = {name: kwargs.pop(name) for name in names}
        return fn(*args, filters={k: v for k, v in filters.items() if v is not None}, **kwargs)

    for decorate in reversed([
        option("--status", type=click.Choice(JOB_STATUSES), help="Only jobs in this state."),
        option("--queue", help="Only this queue."),
        option("--task", help="Only this task."),
        option("--tenant", help="Only this tenant."),
        option("--key", help="Only jobs with this key."),
    ]):  # fmt: skip
        command = decorate(command)
    return command  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Safety:
    """How careful a change should be: stop after counting, or skip the question."""

    dry_run: bool
    yes: bool


def safety_options(fn: F) -> F:
    """``--dry-run`` and ``--yes``, passed to the command as ``safety``."""

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> Any:
        safety = Safety(dry_run=kwargs.pop("dry_run"), yes=kwargs.pop("yes"))
        return fn(*args, safety=safety, **kwargs)

    command = option("--yes", "-y", is_flag=True, help="Do it without asking.")(command)
    command = option("--dry-run", is_flag=True, help="Only count what would change.")(command)
    return command  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Selector:
    """Which dead letters a bulk change applies to: the ids given, or every match of the filters."""

    ids: tuple[str, ...]
    everything: bool
    filters: dict[str, Any]


def selection_options(fn: F) -> F:
    """``ID…`` or ``--all`` with the filters of ``dlq list``, passed to the command as ``selector``."""

    @functools.wraps(fn)
    def command(*args: Any, filters: dict[str, Any], **kwargs: Any) -> Any:
        selector = Selector(ids=kwargs.pop("ids"), everything=kwargs.pop("all"), filters=filters)
        return fn(*args, selector=selector, **kwargs)

    command = dead_letter_filters(command)
    command = option("--all", "all", is_flag=True, help="Every dead letter matching the filters.")(command)
    return click.argument("ids", nargs=-1, metavar="[ID]...")(command)  # type: ignore[return-value]
