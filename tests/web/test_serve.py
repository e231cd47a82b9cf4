"""``jobq serve`` in a subprocess: refuses to expose an open server, and serves with the tokens it is given."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from jobq.cli.serve import is_loopback

from .conftest import API_TOKEN, AUTH, PHONE, READ_ONLY_AUTH, READ_ONLY_TOKEN, TOKEN, copy_of, problem

# `serve` is a click command of its own until the `jobq` group registers it; run it directly.
SERVE = [sys.executable, "-c", "from jobq.cli.serve import serve; serve(prog_name='jobq serve')"]
JOBQ_SERVE = [str(Path(sys.executable).with_name("jobq")), "serve"]


def environment(**extra: str) -> dict[str, str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("JOBQ_")}
    return {**clean, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def serving(
    *args: str, env: dict[str, str], serve: Sequence[str] = SERVE, cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``jobq serve`` on a free loopback port until the block ends; yields its URL and process."""
    port = free_port()
    command = [*serve, "--port", str(port), *args]
    with subprocess.Popen(
        command, env=env, cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as process:
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, process.communicate()[1]
                try:
                    if httpx.get(f"{url}/health").status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "jobq serve did not start"
                    time.sleep(0.05)
            yield url, process
        finally:
            process.terminate()
            process.communicate(timeout=10)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "jobq.example.com"])
def test_refuses_a_non_loopback_address_without_a_token(host: str) -> None:
    if host != "0.0.0.0":  # one real run; the rest is the same decision
        assert not is_loopback(host)
        return
    result = subprocess.run([*SERVE, "--host", host], env=environment(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: refusing to listen on 0.0.0.0 without a token: pass --token or set JOBQ_TOKEN"
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


def test_serves_with_the_tokens_from_the_environment(template: Path, tmp_path: Path) -> None:
    url = copy_of(template, tmp_path)
    env = environment(JOBQ_URL=url, JOBQ_TOKEN=TOKEN, JOBQ_READ_ONLY_TOKEN=READ_ONLY_TOKEN)
    with serving(env=env) as (base, _):
        problem(httpx.get(f"{base}/api/stats"), 401)
        assert httpx.get(f"{base}/api/dlq/count", headers={"Authorization": f"Bearer {TOKEN}"}).json()["count"] == 7
        problem(httpx.post(f"{base}/api/dlq/purge", json={"everything": True}, headers=READ_ONLY_AUTH), 403)


def test_without_a_token_it_makes_one_for_the_run_and_prints_it(template: Path, tmp_path: Path) -> None:
    url = copy_of(template, tmp_path)
    with serving("--rate-limit", "1", "--rate-burst", "3", env=environment(JOBQ_URL=url)) as (base, process):
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("No --token given; this run's token is: ")
        token = line.split(": ")[-1].strip()
        problem(httpx.get(f"{base}/api/stats", headers={"Authorization": f"Bearer {TOKEN}"}), 401)  # 1 of 3
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            assert [client.get("/api/dlq/count").status_code for _ in range(3)] == [200, 200, 429]


def test_a_missing_database_is_one_line(tmp_path: Path) -> None:
    env = environment(JOBQ_URL=f"sqlite:///{tmp_path / 'nope.db'}", JOBQ_TOKEN=TOKEN)
    result = subprocess.run(SERVE, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "no database at" in result.stderr


def test_one_redactor_from_the_configuration_file_and_the_flags_for_api_and_dashboard(
    template: Path, tmp_path: Path
) -> None:
    url = copy_of(template, tmp_path)
    (tmp_path / "jobq.toml").write_text('[redact]\nkeys = ["^body$"]\n')
    env = environment(JOBQ_URL=url, JOBQ_TOKEN=TOKEN, JOBQ_NO_REDACT="1")  # --no-redact is for the terminal only
    with serving("--show-field", "api_token", env=env, serve=JOBQ_SERVE, cwd=tmp_path) as (base, _):
        letters = httpx.get(f"{base}/api/dead-letters?tenant=acme&with_payload=true", headers=AUTH).json()
        letter = next(x for x in letters["dead_letters"] if "api_token" in x["payload"]["kwargs"])
        assert letter["payload"]["kwargs"] == {"to": "[redacted phone]", "body": "[redacted]", "api_token": API_TOKEN}
        page = httpx.get(f"{base}/dashboard/dead-letters/{letter['id']}", headers=AUTH).text
    assert PHONE not in page and API_TOKEN in page and "[redacted]" in page
