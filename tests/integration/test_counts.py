"""``app.counts()``: jobs by queue and state in one query, on every backend (SPEC 10)."""

from __future__ import annotations

import threading
from typing import NoReturn

import pytest

import jobq

from .harness import wait_until, work


def test_counts_gives_each_queue_every_state_including_running_and_scheduled(app: jobq.App) -> None:
    started, gate = threading.Event(), threading.Event()

    @app.task(queue="sms", max_attempts=1)
    def send(ok: bool) -> None:
        if not ok:
            raise jobq.Permanent("invalid number")

    @app.task(queue="slow", max_attempts=1)
    def crunch() -> None:
        started.set()
        gate.wait(10)

    assert app.counts() == {}
    send.enqueue(ok=True)
    send.enqueue(ok=False)
    work(app, queues=["sms"])
    send.enqueue(ok=True)
    send.enqueue(ok=True, _delay=3600)
    crunch.enqueue()
    worker = threading.Thread(target=work, args=(app,), kwargs={"queues": ["slow"]})
    worker.start()
    try:
        wait_until(started.is_set, what="the slow job to start")
        counts = app.counts()
    finally:
        gate.set()
        worker.join(10)
    assert counts == {
        "sms": {"queued": 1, "scheduled": 1, "running": 0, "succeeded": 1, "dead": 1, "cancelled": 0},
        "slow": {"queued": 0, "scheduled": 0, "running": 1, "succeeded": 0, "dead": 0, "cancelled": 0},
    }
    assert app.stats()["queues"] == app.counts()  # the stats() shape is built on the same call


def test_counts_reads_neither_the_dead_letters_nor_the_outbox(app: jobq.App, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("app.counts() must not build the DLQ summary or count hook deliveries")

    monkeypatch.setattr(app.backend, "outbox_counts", refuse)
    monkeypatch.setattr(app.dlq, "stats", refuse)
    assert app.counts() == {}
