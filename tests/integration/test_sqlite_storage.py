"""SQLite specifics: schema versions, and a database that is locked, missing or newer than us."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

import jobq
from jobq.backends import open_backend


def test_migrate_is_versioned_and_idempotent(file_url: str, tmp_path: Path) -> None:
    backend = open_backend(file_url)
    first = backend.migrate()
    assert first >= 1 and backend.migrate() == first
    backend.close()
    with sqlite3.connect(tmp_path / "jobq.db") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == first
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_schema_newer_than_this_jobq_is_refused_with_one_line(file_url: str, tmp_path: Path) -> None:
    open_backend(file_url).migrate()
    with sqlite3.connect(tmp_path / "jobq.db") as conn:
        conn.execute("PRAGMA user_version=999")
    with pytest.raises(jobq.StorageError, match="schema version 999, newer than this jobq"):
        jobq.App(file_url).migrate()


def test_a_locked_database_is_a_clear_error_and_loses_nothing(file_url: str, tmp_path: Path) -> None:
    app = jobq.App(file_url, busy_timeout=0.2)
    app.migrate()
    blocker = sqlite3.connect(tmp_path / "jobq.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    with pytest.raises(jobq.StorageError, match="locked") as caught:
        app.enqueue("tasks.send", {"to": "x"})
    assert "\n" not in str(caught.value)
    blocker.execute("ROLLBACK")
    job_id = app.enqueue("tasks.send", {"to": "x"})
    assert [job.id for job in app.list_jobs()] == [job_id]
    app.close()


def test_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    app = jobq.App(f"sqlite:///{tmp_path / 'gone' / 'jobq.db'}")
    with pytest.raises(jobq.StorageError, match="unable to open"):
        app.stats()


def test_the_worker_survives_a_locked_database_and_records_everything_later(file_url: str, tmp_path: Path) -> None:
    app = jobq.App(file_url, busy_timeout=0.05)

    @app.task(name="noop")
    def noop() -> None:
        pass

    ids = [noop.enqueue() for _ in range(5)]
    blocker = sqlite3.connect(tmp_path / "jobq.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, lambda: blocker.execute("ROLLBACK")).start()
    summary = app.run_worker(burst=True, install_signal_handlers=False)
    assert summary.succeeded == 5
    assert {getattr(app.get_job(job_id), "status", None) for job_id in ids} == {"succeeded"}
    app.close()


def test_unsupported_urls_are_one_line_errors() -> None:
    with pytest.raises(jobq.JobqError, match="unsupported database URL"):
        jobq.App("mysql://localhost/x").stats()
    with pytest.raises(jobq.JobqError, match="bad SQLite URL"):
        jobq.App("sqlite://relative.db").stats()
