"""Every read endpoint over real HTTP: the shapes (the CLI's --json keys, redacted), filters, cursor pages."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pytest

import jobq
from jobq.dlq import CSV_COLUMNS
from jobq.serialize import dead_letter_to_dict, job_to_dict
from jobq.web import Redactor

from .conftest import Live, problem

SPEC_KEYS = {
    "id", "job_id", "task", "queue", "tenant", "key", "payload", "attempts", "errors", "error_type", "error_message",
    "error_class", "fingerprint", "failed_at", "resolution", "replayed_at", "replayed_as",
}  # fmt: skip
"""The keys SPEC section 3 promises (the CLI's --json has more, and so has the API: the same ones)."""
LIGHT_FIELDS = {"payload", "payload_note", "errors", "error_traceback"}
ERROR_KEYS = {"attempt", "at", "error_type", "message", "traceback", "worker", "duration"}


def letters(live: Live, **filters: Any) -> list[jobq.DeadLetter]:
    return list(live.app.dlq.list(limit=1000, with_payload=True, **filters))


def test_health_answers_without_a_token(shared_reader: Live) -> None:
    response = httpx.get(f"{shared_reader.url}/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_stats_is_the_stats_shape_of_the_spec(reader: httpx.Client, shared_reader: Live) -> None:
    stats = reader.get("/api/stats").json()
    assert stats == shared_reader.app.stats()
    assert set(stats) == {"dlq", "queues", "by_class", "hooks", "paused"}  # SPEC's keys, and hook deliveries by state
    assert stats["queues"]["default"] == {
        "queued": 0,
        "scheduled": 1,
        "running": 0,
        "succeeded": 1,
        "dead": 6,
        "cancelled": 0,
    }
    assert stats["by_class"] == {"recoverable": 1, "user_error": 3, "system_error": 2, "unknown": 1}


def test_original_dlq_stats_endpoint_keeps_its_exact_shape(reader: httpx.Client, shared_reader: Live) -> None:
    body = reader.get("/api/queue/dlq/stats").json()
    assert list(body) == ["dlq"]
    assert body["dlq"] == shared_reader.app.dlq.stats()["dlq"]
    assert set(body["dlq"]) == {"total_failed", "permanent_failures", "last_24h", "avg_retries", "pruned", "recovery"}
    assert set(body["dlq"]["recovery"]) == {"total_in_recovery", "pending_recovery", "recovered", "abandoned"}
    assert body["dlq"]["total_failed"] == 7 and body["dlq"]["last_24h"] == 6


def test_original_failures_endpoint_keeps_its_shape_with_unix_seconds(
    reader: httpx.Client, shared_reader: Live
) -> None:
    body = reader.get("/api/queue/dlq/failures", params={"limit": 20}).json()
    assert set(body) == {"failures", "count"}
    newest = letters(shared_reader)
    assert body["count"] == len(body["failures"]) == len(newest) == 7
    for failure, letter in zip(body["failures"], newest, strict=True):
        assert {"job_id", "error_message", "retry_count", "created_at", "completed_at"} <= set(failure)
        assert failure["job_id"] == letter.job_id and failure["retry_count"] == letter.attempts
        assert failure["completed_at"] == pytest.approx(letter.failed_at.timestamp())
        assert isinstance(failure["created_at"], float | None) and isinstance(failure["completed_at"], float)
    assert reader.get("/api/queue/dlq/failures", params={"limit": 2}).json()["count"] == 2


def test_alerts_list_the_thresholds_crossed(reader: httpx.Client, shared_reader: Live) -> None:
    alerts = reader.get("/api/alerts").json()["alerts"]
    expected = [
        {"name": alert.name, "value": alert.value, "threshold": alert.threshold} for alert in shared_reader.app.alerts()
    ]
    assert [{key: alert[key] for key in ("name", "value", "threshold")} for alert in alerts] == expected


def test_a_dead_letter_in_full_is_the_cli_json_redacted(reader: httpx.Client, shared_reader: Live) -> None:
    for letter in letters(shared_reader):
        body = reader.get(f"/api/dead-letters/{letter.id}").json()
        assert set(body) >= SPEC_KEYS
        assert body == Redactor().record(dead_letter_to_dict(letter))
        assert all(set(error) == ERROR_KEYS for error in body["errors"])


def test_an_unknown_dead_letter_or_job_is_a_404_problem(reader: httpx.Client) -> None:
    assert "no dead letter NOPE" in problem(reader.get("/api/dead-letters/NOPE"), 404)["detail"]
    assert "no job NOPE" in problem(reader.get("/api/jobs/NOPE"), 404)["detail"]
    problem(reader.get("/api/no-such-thing"), 404)


def test_listing_is_light_unless_payloads_are_asked_for(reader: httpx.Client, shared_reader: Live) -> None:
    keys = set(dead_letter_to_dict(letters(shared_reader)[0]))
    light = reader.get("/api/dead-letters").json()["dead_letters"]
    assert light and all(set(item) == keys - LIGHT_FIELDS for item in light)
    full = reader.get("/api/dead-letters", params={"with_payload": "true"}).json()["dead_letters"]
    assert all(set(item) == keys for item in full)


def test_cursor_pages_walk_every_dead_letter_newest_first(reader: httpx.Client, shared_reader: Live) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = reader.get("/api/dead-letters", params=params).json()
        assert len(page["dead_letters"]) <= 2
        seen += [item["id"] for item in page["dead_letters"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [letter.id for letter in letters(shared_reader)]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"tenant": "acme"}, {"tenant": "acme"}),
        ({"task": "send_email"}, {"task": "send_email"}),
        ({"queue": "default"}, {"queue": "default"}),
        ({"error_class": "user_error"}, {"error_class": "user_error"}),
        ({"resolution": "open"}, {"resolution": "open"}),
        ({"search": "MAILBOX"}, {"search": "mailbox"}),
        ({"since": "1h"}, {"search": None}),
        ({"until": "2021-01-01T00:00:00Z"}, {"tenant": "initech"}),
        ({"since": "2019-06-01T00:00:00+02:00", "until": "30d"}, {"tenant": "initech"}),
        ({"tenant": "acme", "error_class": "unknown"}, {"tenant": "nobody"}),
    ],
)
def test_every_filter_narrows_listing_count_groups_and_export_alike(
    reader: httpx.Client, shared_reader: Live, filters: dict[str, str], expected: dict[str, Any]
) -> None:
    ids = [letter.id for letter in letters(shared_reader, **expected)]
    if "since" in filters and "until" not in filters:
        ids = [letter.id for letter in letters(shared_reader) if letter.tenant != "initech"]
    listed = reader.get("/api/dead-letters", params={**filters, "limit": 1000}).json()["dead_letters"]
    assert [item["id"] for item in listed] == ids
    assert reader.get("/api/dlq/count", params=filters).json() == {"count": len(ids)}
    groups = reader.get("/api/dlq/groups", params={**filters, "by": "task"}).json()["groups"]
    assert sum(group["count"] for group in groups) == len(ids)
    exported = reader.get("/api/dlq/export", params=filters).text.splitlines()
    assert [json.loads(line)["id"] for line in exported] == ids


def test_groups_by_each_dimension(reader: httpx.Client, shared_reader: Live) -> None:
    for by in ("fingerprint", "task", "class", "tenant", "queue"):
        body = reader.get("/api/dlq/groups", params={"by": by}).json()
        assert body["by"] == by
        assert sum(group["count"] for group in body["groups"]) == 7
        assert all(
            set(group) == {"value", "count", "first_seen", "last_seen", "sample_id", "sample_error_type",
                           "sample_message"} for group in body["groups"]
        )  # fmt: skip
    by_tenant = reader.get("/api/dlq/groups", params={"by": "tenant"}).json()["groups"]
    assert {group["value"]: group["count"] for group in by_tenant} == {"acme": 3, "globex": 2, "initech": 1, None: 1}


def test_export_streams_redacted_json_lines_and_csv(reader: httpx.Client, shared_reader: Live) -> None:
    jsonl = reader.get("/api/dlq/export")
    assert jsonl.headers["content-type"] == "application/x-ndjson"
    assert 'filename="dead-letters.jsonl"' in jsonl.headers["content-disposition"]
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert rows == [Redactor().record(dead_letter_to_dict(letter)) for letter in letters(shared_reader)]

    exported = reader.get("/api/dlq/export", params={"format": "csv", "tenant": "globex"})
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(exported.text)))
    assert tuple(table[0]) == CSV_COLUMNS
    assert [row["id"] for row in table] == [letter.id for letter in letters(shared_reader, tenant="globex")]


def test_jobs_list_detail_and_filters(reader: httpx.Client, shared_reader: Live) -> None:
    jobs = reader.get("/api/jobs").json()
    stored = shared_reader.app.list_jobs(limit=1000)
    assert [job["id"] for job in jobs["jobs"]] == [job.id for job in stored] and jobs["next_cursor"] is None
    for job in stored:
        assert reader.get(f"/api/jobs/{job.id}").json() == Redactor().record(job_to_dict(job))
    dead = reader.get("/api/jobs", params={"status": "dead", "tenant": "acme"}).json()["jobs"]
    assert len(dead) == 3 and all(job["status"] == "dead" for job in dead)
    keyed = reader.get("/api/jobs", params={"key": "msg-42"}).json()["jobs"]
    assert [job["key"] for job in keyed] == ["msg-42"]
    first = reader.get("/api/jobs", params={"limit": 3}).json()
    rest = reader.get("/api/jobs", params={"limit": 100, "cursor": first["next_cursor"]}).json()
    assert [job["id"] for job in first["jobs"] + rest["jobs"]] == [job.id for job in stored]


@pytest.mark.parametrize(
    "query",
    [
        "limit=0", "limit=1001", "limit=ten", "limit=1.5", "error_class=fatal", "resolution=gone", "since=yesterday",
        "until=2024-02-30T00:00:00Z", "since=2024-05-01T10:00:00", "with_payload=yes", "tenant=", "colour=red",
        "tenant=a&tenant=b", "cursor=" + "x" * 201, "search=a%00b",
    ],
)  # fmt: skip
def test_bad_query_parameters_are_400_problems(reader: httpx.Client, query: str) -> None:
    problem(reader.get(f"/api/dead-letters?{query}"), 400)
