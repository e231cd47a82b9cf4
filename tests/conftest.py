"""Fixtures shared by every tier: real databases, never fakes of our own storage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import jobq
from jobq.backends import open_backend
from jobq.backends.contract import Backend

BACKENDS = ["sqlite-file", "sqlite-memory"]


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
    return backend_url(request.param, tmp_path)


@pytest.fixture
def backend(url: str) -> Iterator[Backend]:
    """A migrated, empty backend."""
    store = open_backend(url)
    store.migrate()
    yield store
    store.close()


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
