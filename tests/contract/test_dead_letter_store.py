"""The storage contract of the dead-letter queue, run against every backend."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from jobq.backends.contract import Backend, DeadLetterFilter, JobFilter
from jobq.errors import AlreadyReplayed, NotFound
from jobq.job import DeadLetter, DeadLetterId

from .helpers import NOW, dead_lettered, new_job


def dead_letter(backend: Backend, **job_fields: object) -> DeadLetter:
    """Enqueue, claim and dead-letter one job; returns its letter."""
    error_class = job_fields.pop("error_class", "unknown")
    fingerprint = job_fields.pop("fingerprint", "f1")
    at = job_fields.pop("at", NOW)
    job = new_job(**job_fields)
    backend.enqueue([job])
    (claimed,) = backend.claim(worker="w", queue=job.queue, limit=1, lease=30, now=NOW)
    outcome = dead_lettered(claimed, error_class=str(error_class), fingerprint=str(fingerprint), at=float(at))  # type: ignore[arg-type]
    assert backend.record([outcome]) == [True]
    letter = backend.get_dead(outcome.dead_letter_id)
    assert letter is not None
    return letter


def test_list_is_newest_first_with_cursor_pages(backend: Backend) -> None:
    letters = [dead_letter(backend) for _ in range(5)]
    first = backend.list_dead(DeadLetterFilter(), limit=2, cursor=None, with_payload=False)
    second = backend.list_dead(DeadLetterFilter(), limit=2, cursor=first[-1].id, with_payload=False)
    last = backend.list_dead(DeadLetterFilter(), limit=2, cursor=second[-1].id, with_payload=False)
    assert [x.id for x in first + second + last] == [x.id for x in reversed(letters)]
    assert first[0].payload == {} and first[0].errors == ()  # the light listing


def test_every_filter_narrows_the_list(backend: Backend) -> None:
    target = dead_letter(
        backend, tenant="acme", task="tasks.sms", queue="sms", error_class="user_error", fingerprint="fx", at=NOW + 10
    )
    dead_letter(backend, tenant="other", task="tasks.mail", queue="mail", error_class="system_error", at=NOW)
    filters = [
        DeadLetterFilter(tenant="acme"),
        DeadLetterFilter(task="tasks.sms"),
        DeadLetterFilter(queue="sms"),
        DeadLetterFilter(error_class="user_error"),
        DeadLetterFilter(fingerprint="fx"),
        DeadLetterFilter(since=NOW + 5),
        DeadLetterFilter(until=NOW + 5, tenant="acme"),
    ]
    for where in filters[:-1]:
        assert [x.id for x in backend.list_dead(where, limit=10, cursor=None, with_payload=True)] == [target.id]
        assert backend.count_dead(where) == 1
    assert backend.count_dead(filters[-1]) == 0


def test_search_matches_message_text_case_insensitively(backend: Backend) -> None:
    letter = dead_letter(backend)
    assert backend.count_dead(DeadLetterFilter(search="BOOM")) == 1
    assert backend.count_dead(DeadLetterFilter(search="nothing like it")) == 0
    assert backend.count_dead(DeadLetterFilter(search="%")) == 0  # wildcards are text, not patterns
    assert letter.error_message == "boom"


def test_injection_strings_are_plain_values(backend: Backend) -> None:
    dead_letter(backend)
    hostile = "x' OR 1=1; DROP TABLE dead_letters; --"
    assert backend.count_dead(DeadLetterFilter(tenant=hostile, search=hostile)) == 0
    assert backend.count_dead(DeadLetterFilter()) == 1


def test_groups_count_first_and_last_seen_with_the_newest_sample(backend: Backend) -> None:
    dead_letter(backend, fingerprint="a", at=NOW)
    newest_a = dead_letter(backend, fingerprint="a", at=NOW + 60)
    dead_letter(backend, fingerprint="b", at=NOW + 30)
    groups = backend.group_dead(DeadLetterFilter(), by="fingerprint", limit=10)
    assert [(g.value, g.count) for g in groups] == [("a", 2), ("b", 1)]
    assert groups[0].first_seen.timestamp() == NOW and groups[0].last_seen.timestamp() == NOW + 60
    assert groups[0].sample_id == newest_a.id
    by_class = backend.group_dead(DeadLetterFilter(), by="class", limit=10)
    assert [(g.value, g.count) for g in by_class] == [("unknown", 3)]


def test_replay_enqueues_a_new_job_and_refuses_a_second_time(backend: Backend) -> None:
    letter = dead_letter(backend, tenant="acme")
    job = new_job(task=letter.task, payload=letter.payload, replay_of=letter.id)
    assert backend.replay(letter.id, job, force=False) == job.id
    replayed = backend.get_dead(letter.id)
    assert replayed is not None and replayed.resolution == "replayed" and replayed.replayed_as == job.id
    stored = backend.get_job(job.id)
    assert stored is not None and stored.status == "queued" and stored.replay_of == letter.id
    with pytest.raises(AlreadyReplayed):
        backend.replay(letter.id, new_job(), force=False)
    again = new_job()
    assert backend.replay(letter.id, again, force=True) == again.id


def test_replay_of_a_missing_letter_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.replay(DeadLetterId("nope"), new_job(), force=False)


def test_two_racing_replays_make_exactly_one_job(backend: Backend) -> None:
    letter = dead_letter(backend)
    results: list[str] = []
    barrier = threading.Barrier(2)

    def replay() -> None:
        barrier.wait()
        try:
            results.append(backend.replay(letter.id, new_job(), force=False))
        except AlreadyReplayed:
            results.append("refused")

    threads = [threading.Thread(target=replay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("refused") == 1
    assert len(backend.list_jobs(JobFilter(status="queued"), limit=10, cursor=None)) == 1


def test_abandon_closes_an_open_letter_once(backend: Backend) -> None:
    letter = dead_letter(backend)
    assert backend.abandon(letter.id, note="customer left") is True
    assert backend.abandon(letter.id, note="again") is False
    stored = backend.get_dead(letter.id)
    assert stored is not None and (stored.resolution, stored.note) == ("abandoned", "customer left")


def test_purge_deletes_only_matches(backend: Backend) -> None:
    old = dead_letter(backend, at=NOW - 100)
    new = dead_letter(backend, at=NOW)
    assert backend.purge_dead(DeadLetterFilter(until=NOW - 50)) == 1
    assert backend.get_dead(old.id) is None and backend.get_dead(new.id) is not None


def test_insert_keeps_letters_as_they_are_and_skips_known_ids(backend: Backend) -> None:
    letter = dead_letter(backend)
    copy = replace(letter, id=DeadLetterId("01IMPORTED0000000000000000"), note="imported")
    assert backend.insert_dead([letter, copy]) == 1
    stored = backend.get_dead(copy.id)
    assert stored == copy


def test_summary_counts_totals_recent_classes_and_resolutions(backend: Backend) -> None:
    dead_letter(backend, error_class="recoverable", at=NOW - 90_000)
    abandoned = dead_letter(backend, error_class="user_error", at=NOW)
    backend.abandon(abandoned.id, note=None)
    summary = backend.dead_summary(since=NOW - 86_400)
    assert (summary.total, summary.permanent, summary.recent, summary.avg_attempts) == (2, 1, 1, 1.0)
    assert summary.by_class == {"recoverable": 1, "user_error": 1}
    assert summary.by_resolution == {"open": 1, "abandoned": 1}


def test_replay_is_counted_in_the_tally(backend: Backend) -> None:
    letter = dead_letter(backend, queue="sms")
    backend.replay(letter.id, new_job(queue="sms"), force=False)
    assert ("replayed", "sms", -2.0, 1.0) in backend.read_tally()


def test_new_fingerprints_are_those_first_seen_in_the_window(backend: Backend) -> None:
    dead_letter(backend, fingerprint="old", at=NOW - 7200)
    dead_letter(backend, fingerprint="old", at=NOW)
    dead_letter(backend, fingerprint="fresh", at=NOW - 60)
    dead_letter(backend, fingerprint="fresh", at=NOW)
    assert backend.new_fingerprints(since=NOW - 3600) == [("fresh", NOW - 60, 2)]
