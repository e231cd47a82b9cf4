"""Fixtures for PostgreSQL-only behaviour: a backend on a fresh schema, and an admin connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg  # the dev extra installs it: without it these tests fail to collect, loudly
import pytest

from jobq.backends.postgres import PostgresBackend
from tests.conftest import POSTGRES_URL


@pytest.fixture
def pg(postgres_url: str) -> Iterator[PostgresBackend]:
    """A migrated backend on a schema of its own."""
    backend = PostgresBackend(postgres_url)
    backend.migrate()
    yield backend
    backend.close()


@pytest.fixture
def admin() -> Iterator[Any]:
    """A connection to the test server outside any backend (autocommit), to look and to kill."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        yield conn


def schema_of(url: str) -> str:
    """The schema a test URL puts on the search_path (also its connections' application_name)."""
    return parse_qs(urlsplit(url).query)["application_name"][0]


def terminate(admin: Any, url: str) -> int:
    """``pg_terminate_backend`` every connection of this test's backends (waiting until they are gone)."""
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
        " WHERE application_name = %s AND pid <> pg_backend_pid()",
        (schema_of(url),),
    ).fetchall()
    return sum(1 for (killed,) in rows if killed)
