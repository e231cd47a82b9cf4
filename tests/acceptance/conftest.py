"""The installed ``jobq`` run in subprocesses, against real SQLite files.

A small shop app (``shop.py``, written next to the database) fails in each of the ways the classifier
knows. One populated database is built per session by really running those jobs through a worker, then
copied for each test, so that every test starts from the same DLQ without paying for the worker again.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import jobq
from jobq import App, DeadLetter
from jobq.job import DeadLetterId

JOBQ = str(Path(sys.executable).with_name("jobq"))

SHOP = textwrap.dedent("""
    import os

    import jobq

    app = jobq.App()  # the URL comes from JOBQ_URL (or --url)


    class ProviderError(Exception):
        def __init__(self, status_code, message):
            super().__init__(f"HTTP {status_code}: {message}")
            self.status_code = status_code


    @app.task(name="send_sms", max_attempts=2, backoff=0)
    def send_sms(to: str, body: str) -> None:
        if to.startswith("+1555000"):
            raise ProviderError(400, f"invalid phone number {to}")
        if to.startswith("+1555999"):
            raise TimeoutError("provider timed out")
        if to.startswith("+1555777") and not os.environ.get("SHOP_FIXED"):
            raise KeyError("template [welcome] not found for locale fr-CA; " + "the fallback was empty too " * 6)


    @app.task(name="greet", max_attempts=2, backoff=0)
    def greet(name: str) -> None:
        if name == "bob":
            raise RuntimeError("bob is not welcome")
""")

SENT = {
    "+15551230001": "acme",  # succeeds
    "+15550001111": "acme",  # user_error: HTTP 400
    "+15550002222": "acme",  # user_error: HTTP 400
    "+15559990001": "globex",  # recoverable: timeout
    "+15557770001": "acme",  # unknown: KeyError, one fingerprint for both
    "+15557770002": "globex",
}
OLD_DAYS = 40


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``jobq ARGS`` with a clean environment (no JOBQ_* of the caller, no colour, 80 columns unless told)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JOBQ_", "_JOBQ")) and key not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")
    }
    # The shop's failures are all minutes old, so "new fingerprint" would always fire; the tests of
    # `jobq check` that want it turn it back on.
    environment["JOBQ_CHECK_NEW_FINGERPRINT_WINDOW"] = "0"
    environment.update(env or {})
    return subprocess.run(
        [JOBQ, *args], capture_output=True, text=True, cwd=cwd, env=environment, input=input, timeout=60
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a failing command prints on stderr (and never a traceback)."""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), result.stderr
    return lines[0]


@dataclass
class Shop:
    """A folder with ``shop.py`` and a database; ``jobq`` runs there with ``JOBQ_URL`` pointing at it."""

    folder: Path
    db: Path

    @property
    def url(self) -> str:
        return f"sqlite:///{self.db}"

    def jobq(self, *args: str, input: str | None = None, env: dict[str, str] | None = None) -> Any:
        return run(*args, cwd=self.folder, input=input, env={"JOBQ_URL": self.url, **(env or {})})

    def json(self, *args: str, env: dict[str, str] | None = None) -> Any:
        result = self.jobq("--json", *args, env=env)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    @contextmanager
    def app(self) -> Iterator[App]:
        with jobq.App(self.url) as app:
            yield app

    def letters(self, **filters: Any) -> list[DeadLetter]:
        with self.app() as app:
            return list(app.dlq.list(limit=1000, **filters))

    def letter(self, dead_letter_id: str) -> DeadLetter:
        with self.app() as app:
            letter = app.dlq.get(DeadLetterId(dead_letter_id))
        assert letter is not None
        return letter

    def snapshot(self) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """Everything a command could change: each dead letter's state and each job's."""
        with self.app() as app:
            letters = [(x.id, x.resolution, x.replayed_as, x.note) for x in app.dlq.list(limit=1000)]
            jobs = [(job.id, job.status, job.attempts) for job in app.list_jobs(limit=1000)]
        return letters, jobs


def _import_shop(folder: Path) -> Any:
    spec = importlib.util.spec_from_file_location("shop", folder / "shop.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _old_and_pending(now: datetime) -> str:
    """Dead letters a worker cannot make quickly: two from 40 days ago, one waiting for recovery."""
    rows = []
    for number, (resolution, days, error_class) in enumerate(
        [("open", OLD_DAYS, "system_error"), ("open", OLD_DAYS + 1, "system_error"),
         ("pending_recovery", 0.01, "recoverable")]
    ):  # fmt: skip
        rows.append({
            "id": f"00OLD{number:021d}", "job_id": f"00OLDJOB{number:018d}", "task": "send_sms",
            "queue": "default", "tenant": "initech", "payload": {"args": [], "kwargs": {"to": "+15550009999"}},
            "attempts": 3, "error_type": "OSError", "error_message": f"disk full #{number}",
            "error_class": error_class, "fingerprint": "0ld0ld0ld0ld0ld0",
            "failed_at": (now - timedelta(days=days)).isoformat(), "resolution": resolution,
        })  # fmt: skip
    return "\n".join(json.dumps(row) for row in rows)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with real dead letters of each class, succeeded and scheduled jobs."""
    folder = tmp_path_factory.mktemp("template")
    (folder / "shop.py").write_text(SHOP)
    db = folder / "jobq.db"
    shop = _import_shop(folder)
    app: jobq.App = shop.app
    app.url = f"sqlite:///{db}"
    for number, tenant in SENT.items():
        shop.send_sms.enqueue(to=number, body="hi", _tenant=tenant)
    shop.greet.enqueue(name="bob", _key="visitor-bob")
    app.run_worker(concurrency=2, burst=True, install_signal_handlers=False)
    shop.greet.enqueue(name="ann", _delay=3600, _tenant="acme", _key="visitor-ann")
    app.dlq.import_(io.StringIO(_old_and_pending(datetime.now(UTC))))
    app.close()
    assert not (folder / "jobq.db-wal").exists() or (folder / "jobq.db-wal").stat().st_size == 0
    return db


@pytest.fixture
def shop(template: Path, tmp_path: Path) -> Shop:
    """A fresh copy of the populated database, with ``shop.py`` beside it."""
    shutil.copy(template, tmp_path / "jobq.db")
    (tmp_path / "shop.py").write_text(SHOP)
    return Shop(tmp_path, tmp_path / "jobq.db")


@pytest.fixture
def empty_shop(tmp_path: Path) -> Shop:
    """``shop.py`` and no database yet."""
    (tmp_path / "shop.py").write_text(SHOP)
    return Shop(tmp_path, tmp_path / "jobq.db")
