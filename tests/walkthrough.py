"""A reader going through an example's README in a shell: its ``sh`` blocks run as written, in subprocesses.

``pip install`` and ``cd`` are the reader's setup (this environment has the extras; the folder is the working
directory); ``export`` carries over; what serves (``uvicorn``) or works until stopped (``jobq worker`` without
``--burst``) runs in the background on a free port until the end; ``curl`` fails on an HTTP error.
Placeholders a reader fills in are filled by ``fill`` (e.g. ``ID``: an open dead letter).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
README_PORT = "8000"


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


class Walkthrough:
    """The reader's terminal in ``folder``; ``outputs`` keeps what each command printed, in order."""

    def __init__(self, folder: Path, *, probe: str, fill: Callable[[str], str] = lambda command: command) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.probe = probe
        """The path that answers once the server is up."""
        self.fill = fill
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBQ_", "DJANGO_"))}
        self.env["PATH"] = f"{BIN}{os.pathsep}{self.env.get('PATH', '')}"
        self.background: list[subprocess.Popen[bytes]] = []
        self.outputs: list[str] = []

    def run(self, command: str) -> str:
        if command.startswith(("pip install ", "cd ")):
            return ""
        if match := re.fullmatch(r"export (\w+)=(\S+)", command):
            self.env[match[1]] = match[2]
            return ""
        command = self.fill(command.replace(README_PORT, self.port).replace("localhost:", "127.0.0.1:"))
        if re.search(r"(^|\s)uvicorn ", command):
            self.start(command + " --host 127.0.0.1", serves=True)
            return ""
        if command.startswith("jobq worker") and "--burst" not in command:
            self.start(command, serves=False)
            return ""
        if command.startswith("curl "):
            command = "curl --fail --silent --show-error " + command.removeprefix("curl ")
        done = subprocess.run(["bash", "-c", command], cwd=self.folder, env=self.env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        self.outputs.append(done.stdout)
        return done.stdout

    def start(self, command: str, *, serves: bool) -> None:
        log = (self.folder.parent / f"background-{len(self.background)}.log").open("wb")
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=self.folder, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        log.close()
        self.background.append(process)
        deadline = time.monotonic() + 20
        while serves:
            assert process.poll() is None, f"{command} exited"
            try:
                httpx.get(f"{self.url}{self.probe}", timeout=1)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"{command} did not answer"
                time.sleep(0.1)

    def stop(self) -> list[int | None]:
        """Ctrl-C to what runs in the background; their exit codes."""
        for process in self.background:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        codes: list[int | None] = []
        for process in self.background:
            try:
                codes.append(process.wait(30))
            except subprocess.TimeoutExpired:
                process.kill()
                codes.append(process.wait())
        return codes
