"""``jobq worker`` and ``jobq enqueue``: producing and running jobs from the terminal."""

from __future__ import annotations

import json
import os
import signal
import subprocess

from .conftest import JOBQ, Shop, one_error_line, run


def test_worker_runs_the_jobs_of_the_app_module_in_burst_mode(empty_shop: Shop) -> None:
    ok = empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "ann"}').stdout.strip()
    bad = empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "bob"}').stdout.strip()
    result = empty_shop.jobq("--app", "shop:app", "worker", "--burst")
    assert result.returncode == 0, result.stderr
    assert "1 succeeded, 1 retried, 1 dead" in result.stderr
    assert f"Job {bad} moved to DLQ after 2 attempts: RuntimeError" in result.stderr
    with empty_shop.app() as app:
        assert getattr(app.get_job(ok), "status", None) == "succeeded"
        assert app.dlq.count(task="greet") == 1


def test_worker_without_an_app_is_a_usage_error() -> None:
    result = run("worker", "--burst")
    assert result.returncode == 2
    assert "needs --app" in one_error_line(result)


def test_environment_names_the_app(empty_shop: Shop) -> None:
    result = empty_shop.jobq("worker", "--burst", env={"JOBQ_APP": "shop:app"})
    assert result.returncode == 0, result.stderr
    assert "0 succeeded, 0 retried, 0 dead" in result.stderr  # found the app, nothing to do, returned


def test_enqueue_prints_the_id_and_stores_every_option(empty_shop: Shop) -> None:
    result = empty_shop.jobq(
        "enqueue", "send_sms", "--kwargs", '{"to": "+15551230001", "body": "hi"}', "--queue", "sms",
        "--tenant", "acme", "--key", "msg-42", "--delay", "15m", "--priority", "5", "--max-attempts", "4",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.strip()
    assert len(job_id) == 26
    job = empty_shop.json("jobs", "inspect", job_id, "--no-redact")
    assert job["payload"] == {"args": [], "kwargs": {"to": "+15551230001", "body": "hi"}}
    assert (job["queue"], job["tenant"], job["key"], job["priority"], job["max_attempts"]) == (
        "sms", "acme", "msg-42", 5, 4,
    )  # fmt: skip
    stats = empty_shop.json("stats")
    assert stats["queues"]["sms"]["scheduled"] == 1


def test_enqueue_positional_arguments_and_json_output(empty_shop: Shop) -> None:
    data = empty_shop.json("enqueue", "greet", "--args", '["ann"]')
    assert set(data) == {"id"}
    assert empty_shop.json("jobs", "inspect", data["id"])["payload"] == {"args": ["ann"], "kwargs": {}}


def test_enqueue_then_worker_from_the_terminal_alone(empty_shop: Shop) -> None:
    empty_shop.jobq("enqueue", "send_sms", "--kwargs", '{"to": "+15551230001", "body": "hi"}')
    empty_shop.jobq("enqueue", "send_sms", "--kwargs", '{"to": "+15550001111", "body": "hi"}')
    assert empty_shop.jobq("--app", "shop:app", "worker", "--burst").returncode == 0
    letters = empty_shop.json("dlq", "list")["dead_letters"]
    assert [(x["task"], x["error_class"], x["attempts"]) for x in letters] == [("send_sms", "user_error", 1)]


def test_enqueue_with_the_app_checks_the_arguments_and_stores_nothing_when_wrong(empty_shop: Shop) -> None:
    empty_shop.jobq("migrate")
    result = empty_shop.jobq("--app", "shop:app", "enqueue", "greet", "--kwargs", '{"nom": "ann"}')
    assert result.returncode == 1
    assert "cannot take this payload: missing a required argument: 'name'" in one_error_line(result)
    assert empty_shop.json("jobs", "list")["jobs"] == []


def test_enqueue_refuses_malformed_json_before_touching_the_database(empty_shop: Shop) -> None:
    for args, words in [
        (("--kwargs", '{"name": '), "is not valid JSON"),
        (("--kwargs", '["ann"]'), "must be a json object"),
        (("--args", '{"name": "ann"}'), "must be a json array"),
        (("--delay", "5x"), "'5x' is not a duration"),
    ]:
        result = empty_shop.jobq("enqueue", "greet", *args)
        assert result.returncode == 2, args
        assert words in one_error_line(result), args
    assert not empty_shop.db.exists()


def test_migrate_creates_the_schema_and_says_its_version(empty_shop: Shop) -> None:
    result = empty_shop.jobq("migrate")
    assert result.returncode == 0, result.stderr
    assert "schema at version" in result.stdout
    assert empty_shop.db.exists()
    data = json.loads(empty_shop.jobq("migrate", "--json").stdout)
    assert data["version"] >= 1 and data["url"] == empty_shop.url


def test_worker_processes_share_the_queue_and_each_job_runs_once(empty_shop: Shop) -> None:
    with empty_shop.app() as app:
        ids = app.enqueue_many("greet", [{"name": f"guest-{n}"} for n in range(200)])
    result = empty_shop.jobq("--app", "shop:app", "worker", "--burst", "--processes", "2", "--concurrency", "2")
    assert result.returncode == 0, result.stderr
    summaries = [line for line in result.stderr.splitlines() if line.endswith("released")]
    assert len(summaries) == 2, result.stderr  # one summary per process
    assert sum(int(line.split()[0]) for line in summaries) == 200  # every job succeeded exactly once
    with empty_shop.app() as app:
        assert {getattr(app.get_job(job_id), "status", None) for job_id in ids} == {"succeeded"}


def test_sigterm_to_a_multi_process_worker_stops_every_process_gracefully(empty_shop: Shop) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JOBQ_")}
    env["JOBQ_URL"] = empty_shop.url
    process = subprocess.Popen(
        [JOBQ, "--app", "shop:app", "worker", "--processes", "2"], cwd=empty_shop.folder, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    # As soon as one child runs (the other may still be starting: the signal must wait for it, not kill it).
    seen: list[str] = []
    while not any("started (concurrency" in line for line in seen):
        line = process.stderr.readline()
        assert line, f"the worker exited before starting: {''.join(seen)}"
        seen.append(line)
    process.send_signal(signal.SIGTERM)
    _out, rest = process.communicate(timeout=30)
    err = "".join(seen) + rest
    assert process.returncode == 0, err
    assert err.count("0 succeeded, 0 retried, 0 dead, 0 released") == 2
