"""Leases are timed by the database's clock, so machines whose clocks disagree still agree on expiry."""

from __future__ import annotations

import time

import pytest

from jobq.backends.postgres import PostgresBackend
from jobq.backends.postgres import backend as backend_module
from tests.contract.helpers import new_job

HOUR = 3600.0


def ahead() -> float:
    """The clock of a machine an hour ahead."""
    return time.time() + HOUR


def test_a_lease_taken_on_a_machine_an_hour_ahead_expires_after_the_lease_not_the_hour(
    pg: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.enqueue([new_job(run_at=time.time())])
    monkeypatch.setattr(backend_module, "host_clock", ahead)
    (claimed,) = pg.claim(worker="fast-clock", queue="default", limit=1, lease=1.0, now=ahead())
    monkeypatch.undo()

    assert pg.expired(now=time.time(), limit=10) == []
    time.sleep(1.3)
    assert [lease.lease for lease in pg.expired(now=time.time(), limit=10)] == [claimed.lease]


def test_a_machine_an_hour_ahead_does_not_see_live_leases_as_expired(
    pg: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg.enqueue([new_job(run_at=time.time())])
    (claimed,) = pg.claim(worker="w", queue="default", limit=1, lease=30.0, now=time.time())
    monkeypatch.setattr(backend_module, "host_clock", ahead)
    assert pg.expired(now=ahead(), limit=10) == []
    assert pg.extend([claimed.lease], until=ahead() + 30.0) == []
    assert pg.expired(now=ahead() + 31.0, limit=10) != []  # its own idea of "31 s from now" still counts
