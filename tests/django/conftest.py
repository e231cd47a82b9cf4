"""The Django project of these tests (tests/django/settings.py), set up once; a fresh jobq database per test.

Django 6 needs Python >= 3.12: these tests run in .venv-django (``make test``). The main suite, on 3.11, leaves
this folder out (tests/conftest.py); here a missing Django is an import error, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")
django.setup()

from django.conf import settings  # noqa: E402 - after setup
from django.core.management import call_command  # noqa: E402
from django.tasks import task_backends  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from jobq.contrib.django import JobqBackend  # noqa: E402
from tests.conftest import backend_url, postgres_schema  # noqa: E402
from tests.django import tasks  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def django_tables() -> None:
    """Django's own tables (users, sessions) in its SQLite database."""
    call_command("migrate", database="default", verbosity=0)


@pytest.fixture(params=["sqlite", "postgres"])
def jobq_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh jobq database: a SQLite file, or a schema of its own on the tests' PostgreSQL server."""
    if request.param == "sqlite":
        yield backend_url("sqlite-file", tmp_path)
        return
    with postgres_schema() as url:
        yield url


def tasks_setting(url: str, **options: Any) -> dict[str, Any]:
    backend = settings.TASKS["default"]
    return {"default": {**backend, "OPTIONS": {**backend["OPTIONS"], "URL": url, **options}}}


@pytest.fixture
def backend(jobq_url: str) -> Iterator[JobqBackend]:
    """``TASKS["default"]`` on ``jobq_url`` (Postgres: following the "pg" database's transactions)."""
    options = {"DATABASE": "pg"} if jobq_url.startswith("postgresql") else {}
    with override_settings(TASKS=tasks_setting(jobq_url, **options)):
        current = task_backends["default"]
        assert isinstance(current, JobqBackend)
        tasks.ran.clear()
        yield current
        current.app.close()


def work(backend: JobqBackend, **options: Any) -> None:
    """A real jobq worker in this thread until nothing is due (the tasks' queues, one job at a time)."""
    options.setdefault("queues", ["reports", "default"])
    options.setdefault("concurrency", 1)
    backend.app.run_worker(burst=True, install_signal_handlers=False, **options)
