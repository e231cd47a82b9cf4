"""``jobq worker`` as an operator runs it: the installed command in a subprocess, on ``poison_app``.

Its stderr (the supervisor's and every worker process's log) goes to a file the tests read; the handlers of
``poison_app`` leave one line per start in ``log``, which tells what started where and how often.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

from .subprocesses import Subprocess

JOBQ = Path(sys.executable).parent / "jobq"
STARTED = re.compile(r"Worker \S+?:(\d+):\S+ started")


def process_alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie left for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


class CliWorker(Subprocess):
    """One ``jobq --app poison_app:app worker ...`` process on the test's database."""

    def __init__(self, folder: Path, url: str, log: Path, *args: str, name: str, lease: float = 1.0) -> None:
        env = {"JOBQ_URL": url, "POISON_LOG": str(log), "POISON_LEASE": str(lease)}
        super().__init__(folder, name, [str(JOBQ), "--app", "poison_app:app", "worker", *args], env)

    def worker_pids(self) -> list[int]:
        """The pids of the worker processes that have started so far, in order (``Worker host:pid:x started``)."""
        return [int(pid) for pid in STARTED.findall(self.stderr())]

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then the exit code."""
        if self.alive():
            self.signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        """Kill it and every worker process it started (each runs in a process group of its own)."""
        pids = self.worker_pids()
        if self.alive():
            self.proc.kill()
        self.proc.wait(10)
        for pid in pids:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)


def read_starts(log: Path) -> list[tuple[str, int, int, float]]:
    """The starts the handlers logged so far: (task, n, pid, unix time)."""
    if not log.exists():
        return []
    lines = [line.split() for line in log.read_text().splitlines()]
    return [(task, int(n), int(pid), float(at)) for task, n, pid, at in lines]
