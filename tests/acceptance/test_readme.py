"""The READMEs run as written: every shell command and Python block of README.md and
examples/messaging/README.md, in order, in a fresh
project directory, the way a reader would go through it.

- A ```python block whose first line is ``# <file>.py`` is a file the reader creates: it is written.
  Any other ```python block is pasted into ``python`` in the project directory and must not raise.
- A ```console block (examples/messaging/README.md) is a transcript: its ``$ `` lines run (a heredoc with its
  lines), the answers shown at a ``[y/N]:`` prompt are typed, and what it starts in the background runs until
  the end of the walkthrough (the reader has several terminals open); while a worker runs, each command waits
  until it has finished what is due, as the walkthrough says to.
- A ```sh block runs line by line in bash (``\\`` continues a line, ``  # …`` comments are the reader's to
  skip); ``export`` carries over to the next commands, as in a terminal. Every command must exit 0 (``jobq
  check`` may also say 1: that is its answer, not a failure).
- What runs until stopped (``jobq worker`` without ``--burst``, ``jobq serve``) is started in the background,
  probed (the worker until the queue is drained, the server until ``/health`` answers, on a free port instead
  of 8000) and stopped with Ctrl-C (SIGINT) at the end of its block, without a traceback.
- ``ID`` in a command is the placeholder a reader fills in: the newest open dead letter (else the newest);
  ``JOB``: the job the newest replayed dead letter became. ``HOOK_SECRET`` is set, as the hooks example
  expects of the reader's environment.
- ``pip install 'jobq[extra]'``: the extras must exist in pyproject.toml (this venv has them installed).
- ``make demo`` and ``make test``: ``make -n`` in the repository checks that the target exists and runs
  ``jobq demo`` / ``pytest``; ``jobq demo`` is then run for real. ``make test`` is not run: it would run this
  whole suite inside itself.
- A ```toml block is settings a reader copies into pyproject.toml: every key must name an option of jobq.
- An HTML comment before a block, unseen by readers, marks what a reader would adapt:
  ``<!-- readme-test: skip (why) -->``, or ``<!-- readme-test: postgres url="…" setup="SQL" -->``: the URL is
  replaced by a fresh schema of the test server, where the setup statement runs first.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import tomllib
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import jobq
from jobq.cli import cli
from jobq.cli.config import default_map

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BLOCK = re.compile(
    r"(?:<!--\s*readme-test:(?P<marker>[^>]*)-->\s*\n)?^[ ]*```(?P<lang>\w*)[^\n]*\n(?P<body>.*?)^[ ]*```", re.S | re.M
)
MARKER_FIELD = re.compile(r'(\w+)="([^"]*)"')
RUNS_UNTIL_STOPPED = re.compile(
    r"^(?:jobq (?:(?:--\S+ \S+ )*)(?:worker(?!.*--burst)|serve)\b|python -m examples\.messaging\.fake_server)"
)
ANSWER = re.compile(r"\[y/N\]: (\w+)$")
README_PORTS = ("8000", "8025")  # the ports the READMEs' servers listen on; the test's are free ones
MAY_EXIT = {"jobq check": {0, 1}}  # 1 is its documented answer when a threshold is crossed


@dataclass
class Block:
    """One fenced block of the README: its language, text and the hidden marker before it."""

    lang: str
    body: str
    marker: str = ""

    @property
    def fields(self) -> dict[str, str]:
        return dict(MARKER_FIELD.findall(self.marker))


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    return [Block(m["lang"], textwrap.dedent(m["body"]), (m["marker"] or "").strip()) for m in BLOCK.finditer(text)]


def commands(body: str) -> Iterator[str]:
    """The commands of a shell block: continuation lines joined, comments and blank lines left out."""
    for line in body.replace("\\\n", " ").splitlines():
        command = _without_comment(line).strip()
        if command:
            yield command


def console_commands(body: str) -> Iterator[tuple[str, str]]:
    """The ``$ `` commands of a console transcript, a heredoc with its lines, and the answers typed at its
    prompts (``[y/N]: y``)."""
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.startswith("$ "):
            continue
        command = _without_comment(line[2:]).strip()
        heredoc = re.search(r"<<'?(\w+)'?", command)
        if heredoc:
            end = lines.index(heredoc[1], index)
            command = "\n".join([command, *lines[index:end], heredoc[1]])
            index = end + 1
        answers = []
        while index < len(lines) and not lines[index].startswith("$ "):
            if answer := ANSWER.search(lines[index]):
                answers.append(answer[1] + "\n")
            index += 1
        yield command, "".join(answers)


def _without_comment(line: str) -> str:
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index]
    return line


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Reader:
    """A reader at a terminal in a fresh project directory."""

    folder: Path
    env: dict[str, str]
    port: str = field(default_factory=lambda: str(free_port()))
    ran: int = 0
    background: list[tuple[str, subprocess.Popen[str]]] = field(default_factory=list)

    def python(self, code: str) -> None:
        result = subprocess.run([str(BIN / "python"), "-c", code], cwd=self.folder, env=self.env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        assert result.returncode == 0, f"this README block raised:\n{code}\n{result.stderr}"
        self.ran += 1

    def shell(self, command: str, answers: str = "") -> None:
        if any(" worker" in started and process.poll() is None for started, process in self.background):
            self._wait(self._drained, what="the running worker to finish what is due")  # a reader waits too
        command = self._filled(command)
        if command.startswith("make "):
            self._make(command.split()[1])
        elif command.startswith("pip install "):
            self._pip(command)
        elif RUNS_UNTIL_STOPPED.match(command):
            self._start(command)
        else:
            self._run(command, answers)
        self.ran += 1

    def _filled(self, command: str) -> str:
        for port in README_PORTS:
            command = command.replace(port, self.port)
        if command.startswith("jobq serve") and "--port" not in command:
            command += f" --port {self.port}"
        if command.startswith("curl "):
            command = "curl --fail --silent --show-error " + command.removeprefix("curl ")
        if re.search(r"\bID\b", command):
            command = re.sub(r"\bID\b", self._dead_letter_id(), command)
        if re.search(r"\bJOB\b", command):
            command = re.sub(r"\bJOB\b", self._replayed_job_id(), command)
        return command

    @property
    def url(self) -> str:
        """The database the reader's commands use (JOBQ_URL, else ./jobq.db), as an absolute SQLite URL."""
        path = self.env.get("JOBQ_URL", "sqlite:///jobq.db").removeprefix("sqlite:///")
        return f"sqlite:///{self.folder / path}"

    def _dead_letter_id(self) -> str:
        with jobq.App(self.url) as app:
            letters = list(app.dlq.list(resolution="open", limit=1)) or list(app.dlq.list(limit=1))
        assert letters, "the README needs a dead letter here, and none was made by the commands before"
        return letters[0].id

    def _replayed_job_id(self) -> str:
        with jobq.App(self.url) as app:
            letters = [letter for letter in app.dlq.list(limit=100) if letter.replayed_as]
        assert letters, "the README needs a job made by a replay here, and there is none"
        return str(letters[0].replayed_as)

    def _run(self, command: str, answers: str = "") -> None:
        env_file = self.folder.parent / "env.out"
        script = f"{command}\nstatus=$?\nenv -0 > {shlex.quote(str(env_file))}\nexit $status\n"
        result = subprocess.run(["bash", "-c", script], cwd=self.folder, env=self.env, capture_output=True,
                                text=True, input=answers, timeout=120)  # fmt: skip
        allowed = next((codes for prefix, codes in MAY_EXIT.items() if command.startswith(prefix)), {0})
        assert result.returncode in allowed, f"`{command}` exited {result.returncode}:\n{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
        if env_file.exists():  # `export` carries over, as in a terminal
            pairs = env_file.read_bytes().split(b"\0")
            self.env = dict(p.decode().split("=", 1) for p in pairs if b"=" in p)

    def _make(self, target: str) -> None:
        plan = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert plan.returncode == 0, f"make has no target {target!r}: {plan.stderr}"
        expected = {"demo": "jobq demo", "test": "pytest"}[target]
        assert expected in plan.stdout, f"`make {target}` no longer runs {expected}:\n{plan.stdout}"
        if target == "demo":
            self._run("jobq demo")

    def _pip(self, command: str) -> None:
        extras = set(re.findall(r"[a-z]+", " ".join(re.findall(r"jobq\[([^\]]*)\]", command))))
        declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
        assert extras <= set(declared), f"`{command}`: no extra {extras - set(declared)} in pyproject.toml"

    def _start(self, command: str) -> None:
        log = (self.folder.parent / f"background-{len(self.background)}.log").open("w")  # a pipe could fill up
        process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=self.folder, env=self.env, text=True,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        log.close()
        self.background.append((command, process))
        probe = self._drained if " worker" in command else self._serving if " serve" in command else self._listening
        self._wait(probe, what=f"`{command}`", process=process)

    def _wait(self, probe: Callable[[], bool], *, what: str, process: subprocess.Popen[str] | None = None) -> None:
        deadline = time.monotonic() + 60
        while not probe():
            assert process is None or process.poll() is None, f"{what} stopped early:\n{self._log(process)}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)

    def _listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", int(self.port))) == 0

    def _serving(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def _drained(self) -> bool:
        if not Path(self.url.removeprefix("sqlite:///")).exists():
            return False
        with jobq.App(self.url) as app:
            counts = app.counts()
        return all(states["queued"] + states["scheduled"] + states["running"] == 0 for states in counts.values())

    def _log(self, process: subprocess.Popen[str]) -> str:
        number = next(n for n, (_, p) in enumerate(self.background) if p is process)
        return (self.folder.parent / f"background-{number}.log").read_text()

    def stop_background(self) -> None:
        for command, process in reversed(self.background):
            if process.returncode is not None:
                continue  # stopped at the end of an earlier block
            process.send_signal(signal.SIGINT)  # the reader's Ctrl-C
            process.wait(timeout=60)
            err = self._log(process)
            # uvicorn shuts down, then re-raises the signal it caught: dying of it is a clean stop too
            assert process.returncode in (0, -signal.SIGINT), f"`{command}` exited {process.returncode}:\n{err}"
            assert "Traceback" not in err, err


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[Reader]:
    folder = tmp_path / "project"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JOBQ_", "_JOBQ")) and k != "VIRTUAL_ENV"}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", COLUMNS="80", NO_COLOR="1",
               HOOK_SECRET="a-reader's-own-secret", PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
    person = Reader(folder, env)
    yield person
    for _, process in person.background:  # a failed test still leaves nothing running
        process.kill()
        process.wait()


def read_through(reader: Reader, path: Path, postgres_url: str | None) -> None:
    for block in blocks(path):
        if block.marker.startswith("skip"):
            continue
        if block.lang == "python":
            python_block(reader, block, postgres_url)
        elif block.lang == "sh":  # one terminal per block: what it started stops at its end
            try:
                for command in commands(block.body):
                    reader.shell(command)
            finally:
                reader.stop_background()
        elif block.lang == "toml":  # settings a reader copies: every key must be an option jobq knows
            settings = tomllib.loads(block.body).get("tool", {}).get("jobq", {})
            default_map(cli, settings, where=path.name, table="tool.jobq")
            reader.ran += 1
        elif block.lang == "console":  # a walkthrough over several terminals: they stay open to the end
            for command, answers in console_commands(block.body):
                reader.shell(command, answers)
    reader.stop_background()


def python_block(reader: Reader, block: Block, postgres_url: str | None) -> None:
    """A file the reader creates (first line ``# name.py``), or code pasted into ``python``."""
    name = re.match(r"# ([\w/.-]+\.py)\n", block.body)
    if name:
        (reader.folder / name[1]).write_text(block.body)
        reader.ran += 1
        return
    code = block.body
    if "postgres" in block.marker:
        assert postgres_url is not None
        _prepare_postgres(postgres_url, block.fields.get("setup"))
        code = code.replace(block.fields["url"], postgres_url)
    reader.python(code)


def _prepare_postgres(url: str, setup: str | None) -> None:
    import psycopg

    if setup:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(setup.encode())


def test_every_command_and_block_of_the_readme_runs_as_written(reader: Reader, postgres_url: str) -> None:
    read_through(reader, ROOT / "README.md", postgres_url)
    print(f"README.md: {reader.ran} commands and blocks ran")
    assert reader.ran >= 36, f"only {reader.ran} README commands and blocks ran: did the parser lose some?"


def test_the_messaging_walkthrough_runs_as_written_from_a_clone(reader: Reader) -> None:
    shutil.copytree(ROOT / "examples", reader.folder / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    read_through(reader, ROOT / "examples" / "messaging" / "README.md", None)
    print(f"examples/messaging/README.md: {reader.ran} commands and blocks ran")
    assert reader.ran >= 23, f"only {reader.ran} commands and blocks ran: did the parser lose some?"


def test_commands_are_split_the_way_a_reader_reads_them() -> None:
    body = 'jobq dlq list --search "a # b"   # a comment\n# a whole comment\n\njobq a \\\n  --b\n'
    assert list(commands(body)) == ['jobq dlq list --search "a # b"', "jobq a    --b"]
    assert RUNS_UNTIL_STOPPED.match("jobq worker --app tasks:app --concurrency 8")
    assert RUNS_UNTIL_STOPPED.match("jobq --app tasks:app worker")
    assert not RUNS_UNTIL_STOPPED.match("jobq worker --app tasks:app --burst")
    assert RUNS_UNTIL_STOPPED.match("jobq serve --host 0.0.0.0 --port 8000")


def test_the_all_extra_is_every_optional_backend_and_front_end() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    (everything,) = extras["all"]
    named = set(re.fullmatch(r"jobq\[([\w,]+)\]", everything)[1].split(","))  # type: ignore[index]
    assert named == set(extras) - {"all", "dev"}
