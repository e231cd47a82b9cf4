"""Job ids and records."""

from __future__ import annotations

import re
import threading

from jobq.job import new_id


def test_ids_are_26_crockford_characters() -> None:
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", new_id())


def test_ids_sort_in_creation_order_even_within_one_millisecond() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_ids_from_many_threads_are_unique() -> None:
    found: list[str] = []

    def make() -> None:
        found.extend(new_id() for _ in range(2_000))

    threads = [threading.Thread(target=make) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(found)) == 8_000
