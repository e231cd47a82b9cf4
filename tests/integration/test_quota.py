"""The DLQ quota: letters past it are archived to JSON Lines (importable), then deleted, and counted."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

import jobq
from jobq.job import DeadLetterId
from jobq.quota import enforce_quota

from .harness import ManualClock, work


def dying_app(url: str, **options: object) -> jobq.App:
    app = jobq.App(url, **options)  # type: ignore[arg-type]

    @app.task(name="send", max_attempts=1)
    def send(n: int) -> None:
        raise jobq.Permanent(f"message {n} refused")

    return app


def archived_ids(directory: Path) -> list[str]:
    files = sorted(directory.glob("dlq-archive-*.jsonl"))
    assert not list(directory.glob("*.partial")), "no half-written archive is left behind"
    return [letter.id for path in files for letter in _read(path)]


def _read(path: Path) -> list[jobq.DeadLetter]:
    with jobq.App("sqlite://:memory:") as scratch, path.open(encoding="utf-8") as fp:
        scratch.dlq.import_(fp)
        return list(reversed(scratch.dlq.list(limit=1000, with_payload=True)))


def test_a_worker_keeps_the_dlq_within_its_count_and_the_archive_restores_the_rest(url: str, tmp_path: Path) -> None:
    quota = jobq.Quota(tmp_path / "archive", max_letters=3)
    with dying_app(url, quota=quota) as app:
        for n in range(8):
            app.enqueue("send", {"n": n})
        work(app)  # a burst worker enforces the quota once before it returns
        kept = app.dlq.list(limit=100)
        assert len(kept) == 3
        stats = app.stats()
        assert stats["dlq"]["pruned"] == 5 and stats["dlq"]["total_failed"] == 3
        assert app.metrics().counters[("dlq_pruned", "default")] == 5

        archived = archived_ids(tmp_path / "archive")
        assert len(archived) == 5 and not set(archived) & {letter.id for letter in kept}
        # Nothing was lost: the archive goes back in with `jobq dlq import`, payload and history whole.
        for path in sorted((tmp_path / "archive").glob("*.jsonl")):
            with path.open(encoding="utf-8") as fp:
                assert app.dlq.import_(fp) == 5
        restored = app.dlq.get(DeadLetterId(archived[0]))
        assert restored is not None and restored.payload["kwargs"]["n"] in range(5) and len(restored.errors) == 1


def test_letters_older_than_the_age_bound_are_archived(url: str, tmp_path: Path) -> None:
    clock = ManualClock()
    quota = jobq.Quota(tmp_path / "archive", max_age=timedelta(days=30))
    with dying_app(url, quota=quota, clock=clock) as app:
        app.enqueue("send", {"n": 1})
        work(app)
        clock.advance(20 * 86_400)
        app.enqueue("send", {"n": 2})
        work(app)
        assert app.dlq.count() == 2
        clock.advance(11 * 86_400)  # the first is 31 days old, the second 11
        assert enforce_quota(app.backend, quota, clock=app.clock) == 1
        [left] = app.dlq.list(with_payload=True)
        assert left.payload["kwargs"] == {"n": 2} and len(archived_ids(tmp_path / "archive")) == 1


def test_an_archive_that_cannot_be_written_deletes_nothing_and_the_worker_goes_on(
    url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the archive directory should be")
    with dying_app(url, quota=jobq.Quota(blocked, max_letters=1)) as app:

        @app.task(name="ok")
        def ok() -> None:
            pass

        for n in range(3):
            app.enqueue("send", {"n": n})
        app.enqueue("ok")
        with caplog.at_level(logging.ERROR, logger="jobq.worker"):
            summary = work(app)
        assert summary.succeeded == 1 and summary.dead == 3
        assert app.dlq.count() == 3 and app.stats()["dlq"]["pruned"] == 0
        assert "Could not keep the DLQ within its quota" in caplog.text


def test_no_quota_means_nothing_is_ever_pruned(url: str) -> None:
    with dying_app(url) as app:
        for n in range(5):
            app.enqueue("send", {"n": n})
        work(app)
        assert app.dlq.count() == 5 and app.stats()["dlq"]["pruned"] == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "needs max_letters, max_age or both"),
        ({"max_letters": -1}, "must not be negative"),
        ({"max_age": timedelta(0)}, "must be positive"),
    ],
)
def test_a_quota_refuses_bad_bounds(tmp_path: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        jobq.Quota(tmp_path, **options)  # type: ignore[arg-type]
