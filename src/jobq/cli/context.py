"""What every command shares: the options of the ``jobq`` group and how to load the user's app."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import click

from jobq.app import App
from jobq.errors import JobqError
from jobq.redact import Redactor


@dataclass
class Context:
    """The global options, and the app they name (loaded once, on first use)."""

    url: str | None = None
    app_path: str | None = None
    as_json: bool = False
    busy_timeout: float = 5.0
    redact: bool = True
    redact_config: Mapping[str, Any] = field(default_factory=dict)
    """The ``[tool.jobq.redact]`` table."""
    _app: App | None = None

    def app(self, *, create: bool = False) -> App:
        """The user's app from ``--app``, or a bare app on ``--url`` (enough for everything but running tasks).

        Only commands that write jobs (``create``) may create a missing SQLite file: reading a mistyped
        path must fail, not leave an empty database behind.
        """
        if self._app is None:
            app = load_app(self.app_path, self.url) if self.app_path else App(self.url, busy_timeout=self.busy_timeout)
            if not create:
                require_database(app.url)
            self._app = app
            click.get_current_context().call_on_close(app.close)
        return self._app

    def redactor(self, app: App | None = None) -> Redactor:
        """What output shows payloads and errors through: ``configured_redactor``, or nothing with --no-redact."""
        return self.configured_redactor(app or self.app()) if self.redact else Redactor.none()

    def configured_redactor(self, app: App, *, keys: Iterable[str] = (), allow: Iterable[str] = ()) -> Redactor:
        """The app's redactor with ``[tool.jobq.redact]`` added, and extra key patterns and allowed fields."""
        return app.redactor.extended(self.redact_config).extended({"keys": list(keys), "allow": list(allow)})


def load_app(path: str, url: str | None) -> App:
    """Import ``module:attribute`` (the current directory is on ``sys.path``); ``--url`` overrides its URL."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise JobqError(f"--app {path!r}: expected module:attribute, e.g. myproject.tasks:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is one line for the operator
        raise JobqError(f"--app {path!r}: cannot import {module_name}: {type(exc).__name__}: {exc}") from None
    app = getattr(module, attribute, None)
    if not isinstance(app, App):
        raise JobqError(f"--app {path!r}: {module_name}.{attribute} is not a jobq.App")
    if url:
        app.url = url
    return app


def require_database(url: str) -> None:
    """Fail when ``url`` names a SQLite file that does not exist (other URLs are checked on connection)."""
    rest = url.removeprefix("sqlite:").removeprefix("//")
    if not url.startswith("sqlite:") or not rest.startswith("/") or rest == "/:memory:":
        return
    path = Path(rest[1:])
    if not path.exists():
        raise JobqError(f"no database at {path} (check --url or JOBQ_URL; `jobq migrate` creates one)")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and exit."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)
