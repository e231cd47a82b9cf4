"""Fixtures shared by every tier: real databases, never fakes of our own storage."""

from __future__ import annotations

import importlib.util
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pytest

import jobq
from jobq.backends import open_backend
from jobq.backends.contract import Backend

BACKENDS = ["sqlite-file", "sqlite-memory", "postgres"]

# Django 6 needs Python >= 3.12: tests/django run under .venv-django (``make test`` runs them after this suite, and
# fails there if Django is missing). An interpreter without Django leaves them out instead of failing to import.
collect_ignore = [] if importlib.util.find_spec("django") else ["django"]

# The test server: the machine's PostgreSQL (trust auth), or another one named by this variable.
POSTGRES_URL = os.environ.get("JOBQ_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def backend_url(kind: str, tmp_path: Path) -> str:
    """A fresh database of the given kind."""
    if kind == "sqlite-file":
        return f"sqlite:///{tmp_path / 'jobq.db'}"
    if kind == "sqlite-memory":
        return "sqlite://:memory:"
    raise ValueError(kind)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once per backend."""
    if request.param == "postgres":
        postgres: str = request.getfixturevalue("postgres_url")
        return postgres
    return backend_url(request.param, tmp_path)


@pytest.fixture
def shared_url(url: str, tmp_path: Path) -> str:
    """A database several backends can open at once: ``url``, or a SQLite file in place of ``:memory:``."""
    return f"sqlite:///{tmp_path / 'shared.db'}" if url == "sqlite://:memory:" else url


@cache
def postgres_unavailable() -> str | None:
    """Why the test server cannot be used (None when it can); asked once per run."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed (pip install -e '.[dev]')"
    try:
        psycopg.connect(POSTGRES_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {POSTGRES_URL}: {' '.join(str(exc).split())}"
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL on the test server whose search_path is a fresh schema of its own, dropped afterwards.

    Its connections carry the schema's name as application_name, so leftovers can be ended before the drop.
    """
    reason = postgres_unavailable()
    if reason is not None:
        pytest.skip(reason)
    import psycopg
    from psycopg import sql

    schema = f"jobq_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}&application_name={schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (schema,)
            )
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL on the test server whose search_path is a fresh schema of its own, dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture
def backend(url: str) -> Iterator[Backend]:
    """A migrated, empty backend."""
    store = open_backend(url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def producer(shared_url: str) -> Iterator[jobq.App]:
    """A test's own app on ``shared_url``, beside worker processes: it enqueues by task name and inspects;
    it registers no tasks."""
    with jobq.App(shared_url) as app:
        app.migrate()
        yield app


@pytest.fixture
def file_url(tmp_path: Path) -> str:
    """A SQLite file, for tests that need several processes on one database."""
    return f"sqlite:///{tmp_path / 'jobq.db'}"


@pytest.fixture
def app(url: str) -> Iterator[jobq.App]:
    """An app on a fresh database, once per backend, with a short lease."""
    with jobq.App(url, lease=2.0) as application:
        yield application


def in_ci() -> bool:
    """CI must not skip for a missing service: a skip there is a failure."""
    return bool(os.environ.get("CI"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """With ``CI`` set, a skipped test fails: a missing service must never pass unnoticed."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which counts as a failure: {report.longrepr}"
