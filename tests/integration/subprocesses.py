"""A process under test, started from its command line, with its stderr in a file the test reads."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def pid_of(worker_id: str | None) -> int:
    """The process id in a worker id (``host:pid:suffix``)."""
    assert worker_id is not None
    return int(worker_id.rsplit(":", 2)[1])


class Subprocess:
    """``command`` run in ``folder`` with this folder's modules importable and ``env`` added to ours."""

    def __init__(self, folder: Path, name: str, command: Sequence[str], env: Mapping[str, str]) -> None:
        self.name = name
        self.stderr_path = folder / f"{name}.stderr"
        full_env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            **env,
        }
        with self.stderr_path.open("wb") as stderr:
            self.proc = subprocess.Popen(list(command), env=full_env, cwd=folder, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=stderr)  # fmt: skip
        self.pid = self.proc.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{self.name} ({self.pid}) still running {timeout} s later; stderr:\n{self.stderr()[-3000:]}")

    def wait_for(self, condition: Callable[[], bool], *, what: str, timeout: float = 20.0) -> None:
        """Poll ``condition`` while this process runs; fail at once if it exited."""
        wait_until(lambda: condition() or not self.alive(), timeout=timeout, what=what)
        if not condition():
            pytest.fail(
                f"{self.name} ({self.pid}) exited ({self.proc.returncode}) before {what}:\n{self.stderr()[-3000:]}"
            )
