"""The storage contract of the workers' chores: alerts fired once per storm, and the DLQ quota."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from jobq.backends import open_backend
from jobq.backends.contract import Backend, DeadLetterFilter
from jobq.job import DeadLetter

from .helpers import NOW, dead_lettered, new_job

QUIET = 3600.0


def fire(backend: Backend, crossed: list[str], *, at: float = NOW) -> list[str]:
    """Fire what is armed; each fired name becomes one alert event carrying that name."""
    return backend.fire_alerts(
        crossed, now=at, quiet=QUIET, compose=lambda fired: [{"name": name, "message": name} for name in fired]
    )


def alert_events(backend: Backend) -> list[str]:
    entries = backend.claim_deliveries(now=NOW + 10 * QUIET, lease=60, limit=100)
    assert all(entry.kind == "alert" and entry.dead_letter_id is None for entry in entries)
    return sorted(entry.data["name"] for entry in entries if entry.data is not None)


def test_an_alert_fires_once_while_it_stays_crossed(backend: Backend) -> None:
    assert fire(backend, ["last_24h", "avg_retries"]) == ["avg_retries", "last_24h"]
    assert fire(backend, ["last_24h", "avg_retries"], at=NOW + 60) == []
    assert fire(backend, ["last_24h", "avg_retries"], at=NOW + 2 * QUIET) == [], "a storm that lasts is one message"
    assert alert_events(backend) == ["avg_retries", "last_24h"]


def test_an_alert_fires_again_only_after_it_stayed_clear_for_the_quiet_period(backend: Backend) -> None:
    assert fire(backend, ["last_24h"]) == ["last_24h"]
    assert fire(backend, [], at=NOW + 60) == []  # cleared
    assert fire(backend, ["last_24h"], at=NOW + 60 + QUIET - 1) == [], "back before the quiet period ended"
    assert fire(backend, [], at=NOW + 2 * QUIET) == []  # cleared again: the calm starts over
    assert fire(backend, ["last_24h"], at=NOW + 3 * QUIET - 1) == [], "flapping is one storm"
    assert fire(backend, [], at=NOW + 3 * QUIET) == []
    assert fire(backend, ["last_24h"], at=NOW + 4 * QUIET) == ["last_24h"], "clear for the whole quiet period"
    assert alert_events(backend) == ["last_24h", "last_24h"]


def test_nothing_fired_means_compose_is_not_asked(backend: Backend) -> None:
    fire(backend, ["pending_recovery"])

    def compose(fired: list[str]) -> list[dict[str, str]]:
        raise AssertionError(f"compose called for {fired}")

    assert backend.fire_alerts(["pending_recovery"], now=NOW + 1, quiet=QUIET, compose=compose) == []


def test_a_failing_compose_fires_nothing(backend: Backend) -> None:
    def compose(fired: list[str]) -> list[dict[str, str]]:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        backend.fire_alerts(["last_24h"], now=NOW, quiet=QUIET, compose=compose)
    assert fire(backend, ["last_24h"], at=NOW + 1) == ["last_24h"], "the failed evaluation left no trace"


def test_alert_data_survives_awkward_text(backend: Backend) -> None:
    text = "nul \x00 and a lone surrogate \udc80 and ünïcode"
    backend.fire_alerts(["x"], now=NOW, quiet=QUIET, compose=lambda fired: [{"name": "x", "message": text}])
    (entry,) = backend.claim_deliveries(now=NOW, lease=60, limit=10)
    assert entry.data is not None and entry.data["message"].startswith("nul ") and "ünïcode" in entry.data["message"]


def test_racing_evaluations_fire_each_alert_once(shared_url: str) -> None:
    backends = [open_backend(shared_url) for _ in range(4)]
    for store in backends:
        store.migrate()
    fired: list[str] = []
    start = threading.Barrier(len(backends))

    def evaluate(store: Backend) -> None:
        start.wait()
        for _ in range(5):
            fired.extend(fire(store, ["last_24h", "avg_retries", "new_fingerprint:f1"]))

    threads = [threading.Thread(target=evaluate, args=(store,)) for store in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert sorted(fired) == ["avg_retries", "last_24h", "new_fingerprint:f1"]
        assert alert_events(backends[0]) == ["avg_retries", "last_24h", "new_fingerprint:f1"]
    finally:
        for store in backends:
            store.close()


# -- the quota -------------------------------------------------------------------------------------


def letters(
    backend: Backend, count: int, *, at: float = NOW, queue: str = "default", recovery: bool = False
) -> list[DeadLetter]:
    """``count`` dead letters, oldest first; ``recovery``: pending recovery."""
    made = []
    for _ in range(count):
        job = new_job(queue=queue)
        backend.enqueue([job])
        (claimed,) = backend.claim(worker="w", queue=queue, limit=1, lease=30, now=NOW)
        outcome = dead_lettered(claimed, error_class="recoverable" if recovery else "unknown", at=at)
        if recovery:
            outcome = replace(outcome, recovery=(300.0,))
        assert backend.record([outcome]) == [True]
        letter = backend.get_dead(outcome.dead_letter_id)
        assert letter is not None
        made.append(letter)
    return made


def remaining(backend: Backend) -> set[str]:
    return {letter.id for letter in backend.list_dead(DeadLetterFilter(), limit=1000, cursor=None, with_payload=False)}


def test_prune_archives_the_oldest_past_the_count_then_deletes_them(backend: Backend) -> None:
    made = letters(backend, 7)
    archived: list[list[DeadLetter]] = []
    assert backend.prune_dead(keep=3, before=None, limit=100, archive=archived.append) == 4
    assert [letter.id for letter in archived[0]] == [letter.id for letter in made[:4]]
    assert archived[0][0].payload == made[0].payload and archived[0][0].errors == made[0].errors, "archived whole"
    assert remaining(backend) == {letter.id for letter in made[4:]}
    assert backend.prune_dead(keep=3, before=None, limit=100, archive=archived.append) == 0
    assert backend.dead_summary(since=0).pruned == 4
    assert ("dlq_pruned", "default", -2.0, 4.0) in backend.read_tally()


def test_prune_by_age_and_in_batches(backend: Backend) -> None:
    old = letters(backend, 5, at=NOW - 1000)
    new = letters(backend, 2, at=NOW)
    archived: list[list[DeadLetter]] = []
    assert backend.prune_dead(keep=None, before=NOW - 500, limit=2, archive=archived.append) == 2
    assert backend.prune_dead(keep=None, before=NOW - 500, limit=2, archive=archived.append) == 2
    assert backend.prune_dead(keep=None, before=NOW - 500, limit=2, archive=archived.append) == 1
    assert [letter.id for batch in archived for letter in batch] == [letter.id for letter in old]
    assert remaining(backend) == {letter.id for letter in new}


def test_prune_never_touches_letters_pending_recovery(backend: Backend) -> None:
    pending = letters(backend, 2, recovery=True, at=NOW - 1000)
    letters(backend, 3, at=NOW - 1000)
    assert backend.prune_dead(keep=0, before=NOW, limit=100, archive=lambda batch: None) == 3
    assert remaining(backend) == {letter.id for letter in pending}


def test_an_archive_that_fails_deletes_nothing(backend: Backend) -> None:
    made = letters(backend, 3)

    def disk_full(batch: list[DeadLetter]) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        backend.prune_dead(keep=0, before=None, limit=100, archive=disk_full)
    assert remaining(backend) == {letter.id for letter in made}
    assert backend.dead_summary(since=0).pruned == 0


def test_racing_pruners_archive_each_letter_once(shared_url: str) -> None:
    backends = [open_backend(shared_url) for _ in range(3)]
    for store in backends:
        store.migrate()
    made = letters(backends[0], 30)
    archived: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(backends))

    def archive(batch: list[DeadLetter]) -> None:
        with lock:
            archived.extend(letter.id for letter in batch)

    def prune(store: Backend) -> None:
        start.wait()
        while store.prune_dead(keep=5, before=None, limit=4, archive=archive):
            pass

    threads = [threading.Thread(target=prune, args=(store,)) for store in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert sorted(archived) == sorted(letter.id for letter in made[:25])
        assert remaining(backends[0]) == {letter.id for letter in made[25:]}
        assert backends[0].dead_summary(since=0).pruned == 25
    finally:
        for store in backends:
            store.close()


# -- shared chores ---------------------------------------------------------------------------------


def test_a_chore_turn_goes_to_one_worker_a_period(backend: Backend) -> None:
    assert backend.claim_chore("alerts", now=NOW, every=60) is True
    assert backend.claim_chore("alerts", now=NOW + 1, every=60) is False, "taken for this period"
    assert backend.claim_chore("quota", now=NOW + 1, every=60) is True, "each chore has its own turn"
    assert backend.claim_chore("alerts", now=NOW + 59.9, every=60) is False
    assert backend.claim_chore("alerts", now=NOW + 60, every=60) is True


def test_racing_workers_take_a_chore_turn_once(shared_url: str) -> None:
    backends = [open_backend(shared_url) for _ in range(4)]
    for store in backends:
        store.migrate()
    won: list[bool] = []
    start = threading.Barrier(len(backends))

    def claim(store: Backend) -> None:
        start.wait()
        won.append(store.claim_chore("alerts", now=NOW, every=60))

    threads = [threading.Thread(target=claim, args=(store,)) for store in backends]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert sorted(won) == [False, False, False, True]
    finally:
        for store in backends:
            store.close()


def test_released_deliveries_are_due_again_with_their_claimed_attempt_undone(backend: Backend) -> None:
    fire(backend, ["last_24h", "avg_retries"])
    first = backend.claim_deliveries(now=NOW, lease=60, limit=10)
    assert sorted(entry.attempts for entry in first) == [1, 1]
    backend.release_deliveries([first[0].id], now=NOW + 1)

    (again,) = backend.claim_deliveries(now=NOW + 1, lease=60, limit=10)
    assert (again.id, again.attempts) == (first[0].id, 1), "the other one is still claimed"
    backend.finish_delivery(again.id, state="delivered", next_at=NOW + 1, delivered_to=["log"], error=None)
    backend.release_deliveries([again.id], now=NOW + 2)  # finished: a late release changes nothing
    assert backend.outbox_counts() == {"pending": 1, "delivered": 1}
