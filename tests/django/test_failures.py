"""A Django task that fails is a jobq dead letter: classified, with its whole history, replayable from the CLI,
and ``get_result`` follows the replay to its outcome."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.tasks import TaskResultStatus

from jobq.contrib.django import JobqBackend
from tests.django import tasks

from .conftest import work

JOBQ = Path(sys.executable).parent / "jobq"


def jobq_cli(url: str, *args: str) -> str:
    done = subprocess.run([str(JOBQ), "--url", url, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_task_that_raises_ends_in_the_dlq_with_its_type_and_every_attempt(backend: JobqBackend) -> None:
    result = tasks.explode.enqueue(42)
    work(backend)
    failed = backend.get_result(result.id)
    assert failed.status == TaskResultStatus.FAILED and failed.attempts == 2  # MAX_ATTEMPTS in the settings
    assert [error.exception_class for error in failed.errors] == [ValueError, ValueError]
    assert all("ValueError: order 42 has no lines" in error.traceback for error in failed.errors)
    (letter,) = backend.app.dlq.list(task="tests.django.tasks.explode", with_payload=True)
    assert (letter.job_id, letter.error_type, letter.error_class) == (result.id, "ValueError", "unknown")
    assert [error.attempt for error in letter.errors] == [1, 2]
    assert letter.payload == {"args": [42], "kwargs": {}}
    assert failed.worker_ids == [error.worker for error in letter.errors]


def test_replaying_from_the_cli_makes_get_result_report_the_new_outcome(backend: JobqBackend, tmp_path: Path) -> None:
    fixed = tmp_path / "fixed.txt"
    result = tasks.needs_file.enqueue(str(fixed))
    work(backend)
    assert backend.get_result(result.id).status == TaskResultStatus.FAILED
    listed = json.loads(jobq_cli(backend.app.url, "--json", "dlq", "list", "--task", "tests.django.tasks.needs_file"))
    (letter,) = listed["dead_letters"]
    assert (letter["job_id"], letter["error_type"]) == (result.id, "FileNotFoundError")

    fixed.write_text("all good")  # the operator fixes the cause, then replays
    jobq_cli(backend.app.url, "dlq", "replay", letter["id"])
    replayed = backend.get_result(result.id)
    assert replayed.status == TaskResultStatus.READY and replayed.id == result.id
    work(backend)
    healed = backend.get_result(result.id)
    assert healed.status == TaskResultStatus.SUCCESSFUL and healed.return_value == "all good"
    assert [error.exception_class for error in healed.errors] == [FileNotFoundError, FileNotFoundError]
    assert healed.attempts == 3  # two that failed, and the replay's


def test_a_replay_that_fails_again_reports_failed_with_both_runs(backend: JobqBackend) -> None:
    result = tasks.explode.enqueue(7)
    work(backend)
    (letter,) = backend.app.dlq.list()
    backend.app.dlq.replay(letter.id)
    work(backend)
    again = backend.get_result(result.id)
    assert again.status == TaskResultStatus.FAILED and again.attempts == 4
    assert len(backend.app.dlq.list()) == 2
