"""The installed ``jobq`` command, run in subprocesses against real SQLite files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jobq

JOBQ = str(Path(sys.executable).with_name("jobq"))


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("JOBQ_")}
    environment.update(env or {})
    return subprocess.run([JOBQ, *args], capture_output=True, text=True, cwd=cwd, env=environment, timeout=60)


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert jobq.__version__ in result.stdout


def test_demo_tells_the_whole_story_in_a_few_seconds() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "12 sent" in out and "moved to the dead-letter queue" in out
    for words in ("user_error", "recoverable", "unknown", "→ succeeded", "already replayed"):
        assert words in out, words
    assert "moved to DLQ after 3 attempts: KeyError" in result.stdout + result.stderr


def write_app(folder: Path, db: Path) -> None:
    (folder / "shop.py").write_text(textwrap.dedent(f"""
        import jobq

        app = jobq.App("sqlite:///{db}")

        @app.task(name="greet", max_attempts=2, backoff=0)
        def greet(name: str) -> None:
            if name == "bob":
                raise ValueError("bob is not welcome")
    """))


def test_worker_runs_the_jobs_of_the_app_module_in_burst_mode(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    write_app(tmp_path, db)
    app = jobq.App(f"sqlite:///{db}")
    ok = app.enqueue("greet", {"name": "ann"})
    bad = app.enqueue("greet", {"name": "bob"})
    result = run("--app", "shop:app", "worker", "--burst", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 succeeded, 1 retried, 1 dead" in result.stderr
    assert f"Job {bad} moved to DLQ after 2 attempts: ValueError" in result.stderr
    assert getattr(app.get_job(ok), "status", None) == "succeeded"
    assert app.dlq.count(task="greet") == 1
    app.close()


def test_worker_without_an_app_is_a_usage_error() -> None:
    result = run("worker", "--burst")
    assert result.returncode == 2
    assert "needs --app" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_app_that_cannot_be_imported_is_one_clear_line(tmp_path: Path) -> None:
    result = run("--app", "nowhere:app", "worker", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: --app 'nowhere:app': cannot import nowhere: ModuleNotFoundError: No module named 'nowhere'"
    ]


def test_environment_names_the_app(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    write_app(tmp_path, db)
    result = run("worker", "--burst", cwd=tmp_path, env={"JOBQ_APP": "shop:app", "JOBQ_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    assert "0 succeeded, 0 retried, 0 dead" in result.stderr  # found the app, nothing to do, returned
