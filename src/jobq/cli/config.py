"""Settings from ``./jobq.toml`` or ``[tool.jobq]`` in ``./pyproject.toml``, as click's ``default_map``.

Keys are the long option names (``older-than`` or ``older_than``); a table per command::

    [tool.jobq]
    url = "sqlite:///var/jobq.db"
    app = "myproject.tasks:app"

    [tool.jobq.worker]
    concurrency = 8

    [tool.jobq.check]
    last-24h = 20

    [tool.jobq.redact]          # not a command: what output hides (jobq.redact.Redactor.from_dict)
    keys = ["customer_ref"]

click then resolves each option as flag > environment > this file > built-in default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jobq.errors import JobqError
from jobq.redact import Redactor

REDACT_TABLE = "redact"
"""The top-level table that configures redaction rather than a command's options: ``default_map`` keeps it
whole (click ignores a default_map key that names neither an option nor a command), for the group to read."""


class ConfigError(JobqError):
    """A configuration file that cannot be read, or names a setting no command has."""


def load_settings(folder: Path) -> tuple[Path, dict[str, Any]] | None:
    """The settings found in ``folder`` (``jobq.toml`` first), with the file they came from."""
    own = folder / "jobq.toml"
    if own.is_file():
        return own, _read(own)
    pyproject = folder / "pyproject.toml"
    # Most projects have a pyproject.toml without us in it: skip the TOML parser for those.
    if pyproject.is_file() and "tool.jobq" in pyproject.read_text(encoding="utf-8", errors="replace"):
        settings = _read(pyproject).get("tool", {}).get("jobq")
        if isinstance(settings, dict):
            return pyproject, settings
    return None


def _read(path: Path) -> dict[str, Any]:
    import tomllib

    try:
        with path.open("rb") as fp:
            return tomllib.load(fp)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def default_map(
    command: click.Command,
    settings: dict[str, Any],
    *,
    where: str,
    table: str = "",
    top: bool = True,
) -> dict[str, Any]:
    """``settings`` keyed by click's parameter names, nested per subcommand; unknown keys are an error.

    ``where`` names the file, ``table`` the TOML table being read (for the error message); at the ``top``,
    the ``redact`` table is kept whole.
    """
    result: dict[str, Any] = {}
    subcommands = command.commands if isinstance(command, click.Group) else {}
    for key, value in settings.items():
        if top and key == REDACT_TABLE:
            result[key] = _redact_table(value, where=where, table=f"{table}.{key}".lstrip("."))
            continue
        if key in subcommands and isinstance(value, dict):
            subtable = f"{table}.{key}".lstrip(".")
            result[key] = default_map(subcommands[key], value, where=where, table=subtable, top=False)
            continue
        param = _option(command, key)
        if param is None or param.name is None:
            location = f"{where} [{table}]" if table else where
            raise ConfigError(f"{location}: {key!r} is not an option of that command (see its --help)")
        result[param.name] = value
    return result


def _redact_table(value: Any, *, where: str, table: str) -> dict[str, Any]:
    """The ``redact`` table, checked now: a mistake in it is a usage error, like any bad setting."""
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{table}] must be a table")
    try:
        Redactor.from_dict(value)
    except JobqError as exc:
        raise ConfigError(f"{where} [{table}]: {exc}") from None
    return value


def _option(command: click.Command, key: str) -> click.Parameter | None:
    wanted = "--" + key.replace("_", "-")
    for param in command.params:
        if isinstance(param, click.Option) and wanted in param.opts and param.expose_value:
            return param
    return None
