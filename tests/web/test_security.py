"""Security, on by default: bearer tokens, the read-only token, rate limits, bounded bodies, SQL injection."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from jobq.web import Limits

from .conftest import AUTH, READ_ONLY_AUTH, READ_ONLY_TOKEN, TOKEN, Live, ServerFactory, problem

INJECTIONS = [
    "' OR '1'='1",
    "x'; DROP TABLE dead_letters; --",
    '" OR ""="',
    "1) OR 1=1 --",
    "%' OR 1=1 --",
    "' UNION SELECT id, payload FROM jobs --",
    "\\'; DELETE FROM jobs; --",
    "*/ OR 1=1; /*",
]


def operations(live: Live) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every operation of the server's own OpenAPI document: method, path (ids filled in), operation."""
    document = httpx.get(f"{live.url}/api/openapi.json", headers=AUTH).json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            filled = re.sub(r"\{(dead_letter_id|job_id|redrive_id)\}", "NOPE", path)
            yield method.upper(), filled, operation


def snapshot(live: Live) -> tuple[list[Any], list[Any]]:
    """Everything a request could change: each dead letter's and each job's state."""
    letters = [(x.id, x.resolution, x.replayed_as, x.note) for x in live.app.dlq.list(limit=1000)]
    jobs = [(job.id, job.status, job.attempts) for job in live.app.list_jobs(limit=1000)]
    return letters, jobs


def test_every_endpoint_but_health_needs_a_valid_token(live: Live) -> None:
    wrong = [{}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"},
             {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}]  # fmt: skip
    checked = 0
    with live.client({}) as anonymous:
        for method, path, _ in operations(live):
            for headers in wrong:
                response = anonymous.request(method, path, headers=headers, json={} if method == "POST" else None)
                if path == "/health":
                    assert response.status_code == 200
                    continue
                problem(response, 401)
                assert response.headers["www-authenticate"].startswith('Bearer realm="jobq"')
                checked += 1
    assert checked >= 19 * len(wrong)


def test_read_only_token_reads_everything_and_changes_nothing(live: Live) -> None:
    before = snapshot(live)
    with live.client(READ_ONLY_AUTH) as client:
        for method, path, _ in operations(live):
            response = client.request(method, path, json={} if method == "POST" else None)
            if method == "GET":
                assert response.status_code in (200, 404), (path, response.text)
            else:
                assert "may only read" in problem(response, 403)["detail"]
        assert client.get("/api/stats").status_code == 200
        problem(client.post("/api/dlq/purge", json={"everything": True}), 403)
    assert snapshot(live) == before


def test_a_server_with_only_a_read_only_token_is_read_only(start: ServerFactory) -> None:
    live = start(token=None)
    with live.client(READ_ONLY_AUTH) as client:
        assert client.get("/api/dlq/count").json() == {"count": 7}
        assert "read-only" in problem(client.post("/api/jobs", json={"task": "send_sms"}), 403)["detail"]
    problem(httpx.get(f"{live.url}/api/stats", headers=AUTH), 401)


def test_the_tokens_must_differ(start: ServerFactory) -> None:
    with pytest.raises(ValueError, match="differ"):
        start(read_only_token=TOKEN)
    with pytest.raises(ValueError, match="empty"):
        start(token="")


def test_a_burst_past_the_rate_limit_is_answered_429_with_retry_after(start: ServerFactory) -> None:
    live = start(limits=Limits(rate=0.5, burst=5))
    with live.client() as client:
        statuses = [client.get("/api/dlq/count").status_code for _ in range(8)]
        assert statuses == [200] * 5 + [429] * 3
        limited = client.get("/api/stats")
        problem(limited, 429)
        assert int(limited.headers["retry-after"]) in (1, 2)
        assert client.get("/health").status_code == 200  # load balancers are never limited
        unauthenticated = httpx.get(f"{live.url}/api/stats")  # guessing tokens counts too
        assert unauthenticated.status_code == 429


def test_a_body_over_the_limit_is_refused_before_it_is_read(start: ServerFactory) -> None:
    live = start(limits=Limits(rate=None, max_body_bytes=1000))
    before = snapshot(live)
    huge = b'{"task": "send_sms", "kwargs": {"body": "' + b"x" * 5_000_000 + b'"}}'
    with live.client() as client:
        declared = client.post("/api/jobs", content=huge, headers={"content-type": "application/json"})
        assert "1,000 bytes" in problem(declared, 413)["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer encoding
            yield b'{"task": "send_sms", "kwargs": {"body": "'
            for _ in range(100):
                yield b"x" * 100
            yield b'"}}'

        chunked = client.post("/api/jobs", content=chunks(), headers={"content-type": "application/json"})
        problem(chunked, 413)
        problem(client.post("/api/dlq/import", content=huge, headers={"content-type": "application/x-ndjson"}), 413)
        small = client.post("/api/jobs", json={"task": "send_sms", "kwargs": {"to": "+15551230001", "body": "x" * 500}})
        assert small.status_code == 201
    assert len(snapshot(live)[1]) == len(before[1]) + 1


def test_the_default_body_limit_refuses_megabytes(client: httpx.Client) -> None:
    response = client.post("/api/dlq/import", content=b"x" * (2 * 1024 * 1024), headers={"content-type": "text/plain"})
    problem(response, 413)


def test_sql_injection_in_every_filter_is_only_ever_a_value(live: Live) -> None:
    db = live.app.url.removeprefix("sqlite:///")
    before = snapshot(live)
    answered = 0
    with live.client() as client:
        for method, path, operation in operations(live):
            if method != "GET":
                continue
            for parameter in operation.get("parameters", []):
                for text in INJECTIONS:
                    target = path.replace("NOPE", text) if parameter["in"] == "path" else path
                    params = {parameter["name"]: text} if parameter["in"] == "query" else {}
                    response = client.get(target, params=params)
                    assert response.status_code < 500, (path, parameter["name"], text, response.text)
                    answered += 1
            for text in INJECTIONS:  # filters in bodies too (dry runs: count only)
                for member in ("tenant", "task", "queue", "fingerprint", "search"):
                    body = {"filter": {member: text}, "dry_run": True}
                    for bulk in ("/api/dlq/replay", "/api/dlq/abandon", "/api/dlq/purge"):
                        response = client.post(bulk, json=body)
                        assert response.status_code == 200 and response.json()["matched"] == 0, response.text
        for text in INJECTIONS:
            assert client.get("/api/dlq/count", params={"tenant": text}).json() == {"count": 0}
            assert client.get("/api/jobs", params={"task": text}).json()["jobs"] == []
    assert answered > 300
    assert snapshot(live) == before
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"jobs", "dead_letters"} <= tables


def test_unknown_methods_and_paths_are_problems(client: httpx.Client) -> None:
    response = client.delete("/api/jobs")
    problem(response, 405)
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    problem(client.get("/api/dead-letters/a/b/c"), 404)


def test_a_mounted_app_may_run_open_behind_its_own_authentication(start: ServerFactory) -> None:
    live = start(token=None, read_only_token=None)
    assert httpx.get(f"{live.url}/api/dlq/count").json() == {"count": 7}
    assert httpx.post(f"{live.url}/api/jobs", json={"task": "render_chart", "args": ["s1"]}).status_code == 201


def test_token_comparison_takes_the_same_time_however_close_the_guess(start: ServerFactory) -> None:
    """Not a timing proof (the network dwarfs it): the comparison runs on fixed-length digests of both tokens."""
    from jobq.web.auth import Tokens

    tokens = Tokens(TOKEN, READ_ONLY_TOKEN)
    assert tokens.access(TOKEN) == "write" and tokens.access(READ_ONLY_TOKEN) == "read"
    assert tokens.access(TOKEN[:-1]) is None and tokens.access(TOKEN + "x") is None and tokens.access("") is None
    started = time.perf_counter()
    for _ in range(1000):
        tokens.access("x" * 10_000)
    assert time.perf_counter() - started < 1
