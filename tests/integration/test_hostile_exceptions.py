"""Whatever a handler raises becomes a recorded failure of its job; the worker goes on serving the others.

Each shape here once stopped a worker: a lone surrogate the SQLite driver cannot encode, a NUL PostgreSQL
text cannot hold, an exception whose ``__str__`` or properties raise ``SystemExit``, a handler raising
``SystemExit`` or ``KeyboardInterrupt`` itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn

import pytest

import jobq

from .harness import work


class StrExits(Exception):
    def __str__(self) -> str:
        raise SystemExit(3)


class ReprInterrupts(Exception):
    def __str__(self) -> str:
        raise KeyboardInterrupt

    def __repr__(self) -> str:
        raise KeyboardInterrupt


class StatusExits(Exception):
    @property
    def status_code(self) -> int:
        raise SystemExit(4)

    @property
    def response(self) -> object:
        raise KeyboardInterrupt


class ArgsExit(Exception):
    # Hostile on purpose: a read-only ``args`` that raises, where typeshed declares a writable attribute.
    @property
    def args(self) -> tuple[Any, ...]:  # type: ignore[override]
        raise SystemExit(5)


class SurrogateNamed(Exception):
    pass


# A class statement cannot spell such a name, but code generating classes can set one.
SurrogateNamed.__qualname__ = "Err\udcff\u00e9\x00"
SurrogateNamed.__module__ = "gen\ud800"


def _recurse(depth: int) -> NoReturn:
    if depth == 0:
        raise ValueError("bottom of a deep stack")
    _recurse(depth - 1)


def _deep() -> NoReturn:
    _recurse(sys.getrecursionlimit() - 100)


def _raise(exc: BaseException) -> Callable[[], NoReturn]:
    def handler() -> NoReturn:
        raise exc

    return handler


SHAPES: dict[str, Callable[[], NoReturn]] = {
    "surrogate": _raise(ValueError(b"caf\xff".decode("utf-8", "surrogateescape"))),
    "nul": _raise(ValueError("before\x00after")),
    "str_exits": _raise(StrExits()),
    "repr_interrupts": _raise(ReprInterrupts()),
    "status_exits": _raise(StatusExits()),
    "args_exit": _raise(ArgsExit()),
    "surrogate_class": _raise(SurrogateNamed("named oddly")),
    "deep": _deep,
    "system_exit": _raise(SystemExit(2)),
    "keyboard_interrupt": _raise(KeyboardInterrupt()),
}


def test_hostile_exceptions_become_dead_letters_and_the_worker_serves_every_other_job(url: str) -> None:
    with jobq.App(url) as app:
        done: list[int] = []
        for name, handler in SHAPES.items():
            app.task(name=f"hostile.{name}", max_attempts=1)(handler)

        @app.task(name="fine")
        def fine(n: int) -> None:
            done.append(n)

        hostile = {name: app.tasks[f"hostile.{name}"].enqueue() for name in SHAPES}
        for n in range(20):
            fine.enqueue(n=n)

        summary = work(app)

        assert sorted(done) == list(range(20))
        assert (summary.succeeded, summary.dead) == (20, len(SHAPES))
        full = [app.dlq.get(light.id) for light in app.dlq.list(limit=100)]
        letters = {letter.task.removeprefix("hostile."): letter for letter in full if letter is not None}
        assert set(letters) == set(SHAPES)
        for name, job_id in hostile.items():
            letter = letters[name]
            assert letter.job_id == job_id
            for text in (letter.error_type, letter.error_message, letter.error_traceback):
                assert "\x00" not in text
                text.encode("utf-8")  # no lone surrogate left
        assert letters["surrogate"].error_message == "caf\ufffd"
        assert letters["nul"].error_message == "before\ufffdafter"
        assert letters["str_exits"].error_message.startswith("<unprintable StrExits: str() raised SystemExit")
        assert letters["repr_interrupts"].error_message.startswith("<unprintable ReprInterrupts")
        assert letters["surrogate_class"].error_type == "gen\ufffd.Err\ufffd\u00e9\ufffd"
        assert letters["system_exit"].error_type == "SystemExit"
        assert letters["keyboard_interrupt"].error_type == "KeyboardInterrupt"
        assert "bottom of a deep stack" in letters["deep"].error_traceback


@pytest.mark.parametrize("name", ["surrogate", "str_exits", "status_exits"])
def test_a_hostile_retry_is_recorded_in_the_history(url: str, name: str) -> None:
    with jobq.App(url) as app:
        app.task(name="hostile", max_attempts=2, backoff=jobq.Fixed(0.0))(SHAPES[name])
        job_id = app.tasks["hostile"].enqueue()

        summary = work(app)

        assert (summary.retried, summary.dead) == (1, 1)
        job = app.get_job(job_id)
        assert job is not None and job.status == "dead" and len(job.errors) == 2
