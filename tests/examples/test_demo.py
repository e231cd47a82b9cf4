"""``jobq demo``: the messaging story, from the installed package alone, in a few seconds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from examples.messaging.mock import MockProvider
from examples.messaging.provider import Message

import jobq
from jobq.cli.demo_provider import DemoProvider

JOBQ = str(Path(sys.executable).with_name("jobq"))
RECIPIENTS = ["+15551230001", "+15554290001", "+15555030001", "+15550001111", "+15555000001", "+15554080001"]


def test_demo_tells_the_whole_story_in_a_few_seconds_without_the_repository(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("JOBQ_", "PYTHONPATH"))}
    started = time.monotonic()
    # Run outside the repository: `examples` is not importable there, only the installed jobq is.
    result = subprocess.run([JOBQ, "demo"], cwd=tmp_path, env={**env, "NO_COLOR": "1"}, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    for line in (
        "8 delivered, 2 of them on a second attempt, 1.0 s after the first as Retry-After asked",
        "3 moved to the dead-letter queue: 2 at once",
        "after 3 attempts, 2 join the dead-letter queue",
        "Outcome: 2 recovered by themselves; 2 replays by hand, 2 delivered, 0 failed again.",
        "Replaying one of them a second time is refused",
        "5 in all, 2 recovered, 2 replayed, 1 abandoned",
    ):
        assert line in out, out
    for error_class in ("user_error", "system_error", "recoverable"):
        assert error_class in out
    assert len(re.findall(r"moved to DLQ after \d+ attempts", out)) == 5
    database = re.search(r"Jobs live in (\S+)\.\n", out)
    assert database is not None and not Path(database.group(1)).exists(), "the temporary database is left behind"
    assert elapsed < 8, f"the demo took {elapsed:.1f} s"


@pytest.mark.parametrize("to", RECIPIENTS)
def test_demo_provider_fails_like_the_examples_mock_and_is_classified_alike(to: str) -> None:
    demo, mock = DemoProvider(), MockProvider()
    classify = jobq.Classifier()
    for attempt in range(2):  # some recipients fail once, then are delivered
        demo_error = mock_error = None
        try:
            demo.send(f"msg-{attempt}", to, "hi")
        except Exception as exc:  # noqa: BLE001 - compared below, whatever it is
            demo_error = exc
        try:
            mock.send(Message(id=f"msg-{attempt}", to=to, body="hi"))
        except Exception as exc:  # noqa: BLE001
            mock_error = exc
        assert (demo_error is None) == (mock_error is None), (attempt, demo_error, mock_error)
        if demo_error is not None and mock_error is not None:
            assert str(demo_error) == str(mock_error)
            assert classify(demo_error, 0.0) == classify(mock_error, 0.0)
