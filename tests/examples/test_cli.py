"""The walkthrough of the messaging example, through the installed ``jobq`` and the example's scripts.

Each step runs as an operator would type it (subprocesses, the repository as working directory), against a
real SQLite file and the fake provider on loopback, reached through HttpProvider.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from examples.messaging.fake_server import FakeProviderServer

import jobq

from .conftest import API_KEY, CLIENT_TIMEOUT, REPO

JOBQ = str(Path(sys.executable).with_name("jobq"))
APP = "examples.messaging.app:app"


class Operator:
    """Runs commands in the repository with the example's environment."""

    def __init__(self, db: Path, provider_url: str) -> None:
        self.url = f"sqlite:///{db}"
        self.env = {key: value for key, value in os.environ.items() if not key.startswith(("JOBQ_", "MESSAGING_"))}
        self.env.update({
            "JOBQ_URL": self.url, "MESSAGING_BASE_URL": provider_url, "MESSAGING_API_KEY": API_KEY,
            "MESSAGING_TIMEOUT": str(CLIENT_TIMEOUT), "NO_COLOR": "1",
        })  # fmt: skip

    def run(self, *command: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(command, cwd=REPO, env=self.env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
        return result

    def jobq(self, *args: str) -> str:
        return self.run(JOBQ, *args).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.jobq("--json", *args))

    def send(self, *args: str) -> list[str]:
        return self.run(sys.executable, "-m", "examples.messaging.send", *args).stdout.split()

    def work(self, *, timeout: float = 30.0) -> None:
        """``jobq worker --burst`` again until no job is left queued, waiting (Python API) for retries to come due."""
        deadline = time.monotonic() + timeout
        while True:
            self.jobq("--app", APP, "worker", "--burst", "--concurrency", "4")
            with jobq.App(self.url) as app:
                due = [job.run_at.timestamp() for job in app.list_jobs(status="queued") if job.run_at]
            if not due:
                return
            if time.monotonic() > deadline:
                pytest.fail(f"jobs still queued after {timeout} s")
            time.sleep(max(0.0, min(due) - time.time()))


def test_walkthrough_send_watch_the_dlq_triage_fix_replay_and_see_the_outcome(
    tmp_path: Path, fake_provider: FakeProviderServer
) -> None:
    operator = Operator(tmp_path / "jobq.db", fake_provider.url)

    # Send the sample batch; a worker runs it.
    assert len(operator.send()) == 11
    operator.work()
    letters = operator.json("dlq", "list")["dead_letters"]
    assert Counter(letter["error_class"] for letter in letters) == {"user_error": 2, "system_error": 1}
    assert {letter["error_message"] for letter in letters if letter["error_class"] == "user_error"} == {
        "HTTP 400 invalid_number: [redacted phone] is not a valid mobile number"
    }, "the operator's screen shows no phone number by default"
    raw = operator.json("dlq", "list", "--no-redact")["dead_letters"]
    assert {letter["error_message"] for letter in raw if letter["error_class"] == "user_error"} == {
        "HTTP 400 invalid_number: +15550001111 is not a valid mobile number",
        "HTTP 400 invalid_number: +15550002222 is not a valid mobile number",
    }
    assert len(fake_provider.delivered) == 8

    # An outage: two more messages time out and land in the DLQ as recoverable.
    fake_provider.down()
    operator.send("+15551239991", "+15551239992", "--tenant", "acme")
    operator.work()
    fake_provider.up()

    # Triage: groups by class and by fingerprint; the readable table too.
    groups = operator.json("dlq", "groups", "--by", "class")["groups"]
    assert {group["value"]: group["count"] for group in groups} == {"user_error": 2, "recoverable": 2,
                                                                    "system_error": 1}  # fmt: skip
    by_fingerprint = operator.json("dlq", "groups")["groups"]
    assert sorted(group["count"] for group in by_fingerprint) == [1, 2, 2]
    table = operator.jobq("dlq", "list", "--class", "recoverable")
    assert table.count("recoverable") == 2 and "ProviderTimeout" in table

    # The provider is back: replay the recoverable group (without waiting for the recovery queue's
    # cool-down); their replays succeed, so those dead letters are recovered.
    operator.jobq("dlq", "replay", "--all", "--class", "recoverable", "--yes")
    operator.work()
    replayed = operator.json("dlq", "list", "--resolution", "recovered")["dead_letters"]
    assert len(replayed) == 2
    succeeded = {job["id"] for job in operator.json("jobs", "list", "--status", "succeeded", "--limit", "100")["jobs"]}
    assert {letter["replayed_as"] for letter in replayed} <= succeeded
    assert sorted(sent["to"] for sent in fake_provider.delivered[-2:]) == ["+15551239991", "+15551239992"]
    with jobq.App(operator.url) as app:  # the Python API sees the same: 3 open, 2 recovered
        assert app.dlq.count(resolution="open") == 3 and app.dlq.count(resolution="recovered") == 2
