"""examples/fastapi under uvicorn, over real HTTP: enqueue from an endpoint, workers apart or beside, the async
reads, and jobq's dashboard and API mounted under /jobq."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = "example-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOBQ_")}
    return {**clean, "JOBQ_URL": f"sqlite:///{tmp_path / 'jobq.db'}", "JOBQ_TOKEN": TOKEN}


@contextmanager
def service(env: dict[str, str], tmp_path: Path) -> Iterator[tuple[httpx.Client, subprocess.Popen[bytes]]]:
    """``uvicorn examples.fastapi.app:api`` in a subprocess on a free loopback port, until stopped with Ctrl-C."""
    port = free_port()
    log = (tmp_path / f"uvicorn-{port}.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.fastapi.app:api", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10)
    try:
        wait_for(lambda: _answers(client, server), what="uvicorn to answer")
        yield client, server
    finally:
        client.close()
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            server.wait(30)
        log.close()


def _answers(client: httpx.Client, server: subprocess.Popen[bytes]) -> bool:
    assert server.poll() is None, "uvicorn exited"
    try:
        return client.get("/jobq/health").status_code == 200
    except httpx.TransportError:
        return False


def wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def worker_apart(env: dict[str, str]) -> None:
    done = subprocess.run([str(BIN / "jobq"), "worker", "--app", "examples.fastapi.app:queue", "--burst"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_an_endpoint_enqueues_and_a_worker_apart_runs_it(env: dict[str, str], tmp_path: Path) -> None:
    with service(env, tmp_path) as (client, _server):
        queued = client.post("/images/cat/resize", params={"width": 320})
        assert queued.status_code == 202
        job_id = queued.json()["job_id"]
        assert client.get(f"/jobs/{job_id}").json()["status"] == "queued"
        failing = client.post("/images/missing-1/resize").json()["job_id"]
        worker_apart(env)
        assert client.get(f"/jobs/{job_id}").json() == {
            "id": job_id, "status": "succeeded", "attempts": 1, "errors": [],
            "result": {"image": "cat", "width": 320, "url": "/images/cat-320.png"},
        }  # fmt: skip
        dead = client.get(f"/jobs/{failing}").json()
        assert (dead["status"], dead["errors"]) == ("dead", ["examples.fastapi.app.ImageMissing"])
        (letter,) = client.get("/failures").json()
        assert (letter["job_id"], letter["error_class"]) == (failing, "user_error")
        assert client.get("/jobs/nope").status_code == 404


def test_jobqs_dashboard_and_api_are_mounted_under_jobq(env: dict[str, str], tmp_path: Path) -> None:
    with service(env, tmp_path) as (client, _server):
        client.post("/images/dog/resize")
        assert client.get("/jobq/api/stats").status_code == 401  # the token is required
        stats = client.get("/jobq/api/stats", headers={"Authorization": f"Bearer {TOKEN}"}).json()
        assert stats["queues"]["default"]["queued"] == 1
        sign_in = client.get("/jobq/dashboard/")
        assert sign_in.status_code in (302, 303, 307)
        assert sign_in.headers["location"].startswith("/jobq/dashboard/sign-in")


def test_a_worker_beside_the_service_runs_jobs_and_stops_with_it(env: dict[str, str], tmp_path: Path) -> None:
    with service({**env, "JOBQ_WORKER": "beside"}, tmp_path) as (client, server):
        job_id = client.post("/images/owl/resize").json()["job_id"]
        wait_for(lambda: client.get(f"/jobs/{job_id}").json()["status"] == "succeeded", what="the job to run")
        server.send_signal(signal.SIGINT)
        assert server.wait(30) == 0
    log = next(tmp_path.glob("uvicorn-*.log")).read_text()
    assert "Traceback" not in log and "Application shutdown complete" in log
