"""examples/fastapi under uvicorn, over real HTTP: enqueue from an endpoint, workers apart or beside, the async
reads, and jobq's dashboard and API mounted under /jobq."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.acceptance.test_readme import blocks, commands
from tests.walkthrough import Walkthrough, free_port

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = "example-token-0123456789"


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
        [sys.executable, "-m", "uvicorn", "examples.fastapi.app:api", "--host", "127.0.0.1", "--port", port],
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


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "project" / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    reader = Walkthrough(tmp_path / "project", probe="/jobq/health")

    def settled(command: str) -> str:
        """A reader looks once the worker has done what is due (the README's worker runs in the background)."""
        if command.startswith("curl") and reader.background[1:]:
            stats = f"{reader.url}/jobq/api/stats"
            auth = {"Authorization": f"Bearer {reader.env['JOBQ_TOKEN']}"}
            wait_for(lambda: _idle(httpx.get(stats, headers=auth).json()), what="the worker to finish")
        if "JOB_ID" in command:
            command = command.replace("JOB_ID", json.loads(reader.outputs[0])["job_id"])
        return command

    reader.fill = settled
    try:
        for block in blocks(REPO / "examples" / "fastapi" / "README.md"):
            for command in commands(block.body):
                reader.run(command)
    finally:
        codes = reader.stop()
    queued, done, _failing, failures, stats = (json.loads(output) for output in reader.outputs)
    assert done == {"id": queued["job_id"], "status": "succeeded", "attempts": 1, "errors": [],
                    "result": {"image": "cat", "width": 320, "url": "/images/cat-320.png"}}  # fmt: skip
    assert [letter["error_class"] for letter in failures] == ["user_error"]
    assert stats["queues"]["default"] == {
        "queued": 0,
        "scheduled": 0,
        "running": 0,
        "succeeded": 1,
        "dead": 1,
        "cancelled": 0,
    }
    assert codes == [0, 0]  # Ctrl-C stops the service and the worker cleanly


def _idle(stats: dict[str, Any]) -> bool:
    return all(queue["queued"] + queue["running"] == 0 for queue in stats["queues"].values())
