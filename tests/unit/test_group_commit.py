"""GroupCommit: calls that arrive while a group is being written wait for the next group, led by the first of
them; a call that cannot be written fails alone; nobody returns before the group holding its call is written."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence

import pytest

from jobq.backends.sqlite.group_commit import GroupCommit


class Store:
    """Writes a group by sleeping (the fsync), refuses negative numbers like a constraint would."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.written: set[int] = set()

    def write_group(self, calls: Sequence[int]) -> list[str]:
        time.sleep(0.005)
        if any(call < 0 for call in calls):
            raise ValueError("a negative number in the group")
        self.groups.append(list(calls))
        self.written.update(calls)
        return [f"id-{call}" for call in calls]

    def write_one(self, call: int) -> str:
        return self.write_group([call])[0]


def _run_concurrently(group: GroupCommit[int, str], calls: Sequence[int]) -> dict[int, str | Exception]:
    results: dict[int, str | Exception] = {}
    start = threading.Barrier(len(calls))

    def run(call: int) -> None:
        start.wait()
        try:
            results[call] = group.run(call)
        except ValueError as exc:
            results[call] = exc

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_a_lone_call_is_a_group_of_one() -> None:
    store = Store()
    group = GroupCommit(store.write_group, store.write_one)
    assert group.run(7) == "id-7"
    assert store.groups == [[7]]


def test_concurrent_calls_share_groups_and_each_gets_its_own_result() -> None:
    store = Store()
    group = GroupCommit(store.write_group, store.write_one)
    calls = list(range(40))
    results = _run_concurrently(group, calls)
    assert results == {call: f"id-{call}" for call in calls}
    assert sorted(call for written in store.groups for call in written) == calls
    assert len(store.groups) < len(calls) / 2, store.groups


def test_a_call_that_cannot_be_written_fails_alone() -> None:
    store = Store()
    group = GroupCommit(store.write_group, store.write_one)
    results = _run_concurrently(group, [*range(20), -1])
    assert isinstance(results.pop(-1), ValueError)
    assert results == {call: f"id-{call}" for call in range(20)}
    assert store.written == set(range(20))


def test_every_call_returns_only_after_its_group_was_written() -> None:
    store = Store()
    group = GroupCommit(store.write_group, store.write_one)
    returned_before_written: list[int] = []
    lock = threading.Lock()

    def run(call: int) -> None:
        group.run(call)
        with lock:
            if call not in store.written:
                returned_before_written.append(call)

    threads = [threading.Thread(target=run, args=(call,)) for call in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert returned_before_written == []
    assert store.written == set(range(30))


def test_an_interrupted_leader_fails_the_calls_it_held_and_the_next_group_still_runs() -> None:
    entered = threading.Event()
    release = threading.Event()
    calls_seen: list[list[int]] = []

    def write_group(calls: Sequence[int]) -> list[str]:
        calls_seen.append(list(calls))
        if 0 in calls:
            entered.set()
            release.wait(5)
            raise KeyboardInterrupt  # the leader's thread is interrupted mid-write
        return [f"id-{call}" for call in calls]

    group: GroupCommit[int, str] = GroupCommit(write_group, lambda call: write_group([call])[0])
    outcomes: dict[int, object] = {}

    def run(call: int) -> None:
        try:
            outcomes[call] = group.run(call)
        except BaseException as exc:  # noqa: BLE001 — recorded for the asserts
            outcomes[call] = exc

    leader = threading.Thread(target=run, args=(0,))
    leader.start()
    assert entered.wait(5)
    followers = [threading.Thread(target=run, args=(call,)) for call in (1, 2)]
    for thread in followers:
        thread.start()
    time.sleep(0.05)  # both are waiting for the next group
    release.set()
    for thread in [leader, *followers]:
        thread.join(10)
    assert isinstance(outcomes[0], KeyboardInterrupt)
    assert outcomes[1] == "id-1" and outcomes[2] == "id-2"
    assert calls_seen == [[0], [1, 2]]


@pytest.mark.parametrize("calls", [1, 3])
def test_the_leader_role_is_free_again_after_each_burst(calls: int) -> None:
    store = Store()
    group = GroupCommit(store.write_group, store.write_one)
    for _ in range(3):
        assert len(_run_concurrently(group, list(range(calls)))) == calls
    assert group.run(99) == "id-99"


def test_a_forked_child_does_not_wait_for_a_group_its_parent_was_writing() -> None:
    entered, release = threading.Event(), threading.Event()

    def write_group(calls: Sequence[int]) -> list[str]:
        if 0 in calls:
            entered.set()
            release.wait(5)
        return [f"id-{call}" for call in calls]

    group: GroupCommit[int, str] = GroupCommit(write_group, lambda call: write_group([call])[0])
    leader = threading.Thread(target=group.run, args=(0,))
    leader.start()
    assert entered.wait(5)  # the parent is in the middle of writing a group
    pid = os.fork()
    if pid == 0:  # the child: its first call leads a group of its own at once (SIGALRM ends it if it waits)
        signal.alarm(5)
        os._exit(0 if group.run(1) == "id-1" else 1)
    release.set()
    leader.join(5)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
