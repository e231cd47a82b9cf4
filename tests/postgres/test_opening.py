"""Opening a PostgreSQL URL: lazily, with one-line errors for what an operator can fix."""

from __future__ import annotations

import sys
import time

import pytest

import jobq
from jobq.backends import open_backend
from jobq.backends.postgres import PostgresBackend
from tests.conftest import POSTGRES_URL


def test_postgresql_urls_open_the_postgres_backend_without_connecting() -> None:
    backend = open_backend("postgresql://nobody@127.0.0.1:1/none", durability="full", busy_timeout=5.0)
    assert isinstance(backend, PostgresBackend)  # nothing was reached yet: pools open on first use
    backend.close()


def test_without_psycopg_a_postgres_url_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name.startswith("jobq.backends.postgres")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # what an import of a missing package raises
    with pytest.raises(jobq.JobqError, match=r"pip install 'jobq\[postgres\]'") as caught:
        open_backend("postgresql://localhost/jobs")
    assert "\n" not in str(caught.value)


def test_an_unreachable_server_is_a_prompt_one_line_error_without_the_password() -> None:
    started = time.monotonic()
    with jobq.App("postgresql://me:s3cret@127.0.0.1:1/jobs") as app, pytest.raises(jobq.JobqError) as caught:
        app.migrate()
    message = str(caught.value)
    assert "127.0.0.1:1/jobs" in message and "s3cret" not in message and "\n" not in message
    assert time.monotonic() - started < 5


@pytest.mark.usefixtures("postgres_url")  # skips (or fails in CI) without a server
def test_a_search_path_without_an_existing_schema_is_a_clear_error() -> None:
    backend = PostgresBackend(f"{POSTGRES_URL}?options=-csearch_path%3Dno_such_schema_here")
    with pytest.raises(jobq.JobqError, match="no schema to use"):
        backend.migrate()
    backend.close()
