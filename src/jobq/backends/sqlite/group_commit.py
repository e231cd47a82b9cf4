"""Group commit: producers that enqueue at the same moment share one transaction, and so one fsync.

A commit at ``synchronous=FULL`` waits for the disk, and SQLite admits one writer at a time: one by one, N
threads enqueueing get N fsyncs in a row. Here the first caller to arrive leads: it writes every call that
is waiting, commits once, and hands each caller its result. Calls that arrive during that commit wait for the
next one, led by the first of them. No caller returns before the transaction holding its jobs committed, so
nothing is given up; a lone caller leads a group of one and pays nothing extra.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from jobq.errors import StorageError

Call = TypeVar("Call")
Result = TypeVar("Result")


class _Waiter(Generic[Call, Result]):
    __slots__ = ("call", "error", "finished", "result", "wake")

    def __init__(self, call: Call) -> None:
        self.call = call
        # Set when the call is finished, or when it is this caller's turn to lead; only callers that wait have
        # one (an Event costs more than the rest of a lone caller's overhead).
        self.wake: threading.Event | None = None
        self.finished = False
        self.result: Result | None = None
        self.error: BaseException | None = None


class GroupCommit(Generic[Call, Result]):
    """Runs calls in groups through ``write_group`` (one transaction for the calls it is given).

    When a group's transaction fails, each of its calls is written again on its own (``write_one``), so a call
    that cannot be written fails alone and the others are not charged for it.
    """

    def __init__(
        self,
        write_group: Callable[[Sequence[Call]], list[Result]],
        write_one: Callable[[Call], Result],
    ) -> None:
        self._write_group = write_group
        self._write_one = write_one
        self._forget()
        _all.add(self)

    def _forget(self) -> None:
        """No group being written, nobody waiting: a forked child starts so (the threads that were writing or
        waiting stayed in the parent, and their state must not make the child's first call wait forever)."""
        self._lock = threading.Lock()
        self._waiting: list[_Waiter[Call, Result]] = []
        self._leading = False

    def run(self, call: Call) -> Result:
        """Write ``call`` in the next group to commit; returns once that group committed."""
        waiter: _Waiter[Call, Result] = _Waiter(call)
        with self._lock:
            self._waiting.append(waiter)
            lead = not self._leading
            self._leading = True
            if not lead:
                waiter.wake = threading.Event()
        if waiter.wake is not None:
            waiter.wake.wait()
            lead = not waiter.finished  # the previous leader is done and ours is the first call waiting
        if lead:
            self._lead()
        if waiter.error is not None:
            raise waiter.error
        return waiter.result  # type: ignore[return-value]  # set when finished without an error

    def _lead(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            self._write(group)
        finally:
            for waiter in group:
                if waiter.result is None and waiter.error is None:  # the leader was interrupted (Ctrl-C)
                    waiter.error = StorageError("the enqueue was interrupted before its transaction committed")
                waiter.finished = True
                if waiter.wake is not None:
                    waiter.wake.set()
            with self._lock:
                if self._waiting:
                    successor = self._waiting[0].wake
                    assert successor is not None  # every caller that found a leader waits
                    successor.set()  # not finished: it leads the next group
                else:
                    self._leading = False

    def _write(self, group: list[_Waiter[Call, Result]]) -> None:
        try:
            results = self._write_group([waiter.call for waiter in group])
        except Exception as exc:  # noqa: BLE001 — raised again in the thread of the call it belongs to
            if len(group) == 1:
                group[0].error = exc
                return
            for waiter in group:
                try:
                    waiter.result = self._write_one(waiter.call)
                except Exception as own:  # noqa: BLE001 — raised again in its caller's thread
                    waiter.error = own
        else:
            for waiter, result in zip(group, results, strict=True):
                waiter.result = result


_all: weakref.WeakSet[GroupCommit[Any, Any]] = weakref.WeakSet()


def _forget_all() -> None:
    for group in list(_all):
        group._forget()


os.register_at_fork(after_in_child=_forget_all)
