"""Settings from ``./jobq.toml`` or ``[tool.jobq]`` in ``./pyproject.toml``, as click's ``default_map``.

Keys are the long option names (``older-than`` or ``older_than``); a table per command::

    [tool.jobq]
    url = "sqlite:///var/jobq.db"
    app = "myproject.tasks:app"

    [tool.jobq.worker]
    concurrency = 8

    [tool.jobq.check]
    last-24h = 20

click then resolves each option as flag > environment > this file > built-in default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from jobq.errors import JobqError


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


def default_map(command: click.Command, settings: dict[str, Any], *, where: str, table: str = "") -> dict[str, Any]:
    """``settings`` keyed by click's parameter names, nested per subcommand; unknown keys are an error.

    ``where`` names the file, ``table`` the TOML table being read (for the error message).
    """
    result: dict[str, Any] = {}
    subcommands = command.commands if isinstance(command, click.Group) else {}
    for key, value in settings.items():
        if key in subcommands and isinstance(value, dict):
            result[key] = default_map(subcommands[key], value, where=where, table=f"{table}.{key}".lstrip("."))
            continue
        param = _option(command, key)
        if param is None or param.name is None:
            location = f"{where} [{table}]" if table else where
            raise ConfigError(f"{location}: {key!r} is not an option of that command (see its --help)")
        result[param.name] = value
    return result


def _option(command: click.Command, key: str) -> click.Parameter | None:
    wanted = "--" + key.replace("_", "-")
    for param in command.params:
        if isinstance(param, click.Option) and wanted in param.opts and param.expose_value:
            return param
    return None
