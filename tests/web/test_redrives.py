"""Redrives and the audit trail over HTTP: follow, cancel and resume a redrive; who did what, redacted."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from jobq.redact import REDACTED
from jobq.redrive import RedriveId
from jobq.web.auth import ACCESS_KEY, SOURCE_KEY, caller

from .conftest import PHONE, READ_ONLY_AUTH, Live, interrupted_redrive, problem


def open_ids(live: Live, **filters: Any) -> list[str]:
    return [letter.id for letter in live.app.dlq.list(limit=1000, resolution="open", **filters)]


def finished(live: Live, redrive_id: str) -> bool:
    """Wait (up to 10 s) for a redrive resumed in the background to finish."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        redrive = live.app.dlq.get_redrive(RedriveId(redrive_id))
        if redrive is not None and redrive.state == "finished":
            return True
        time.sleep(0.05)
    return False


def test_a_replay_by_filter_is_listed_with_its_progress_outcome_and_caller(client: httpx.Client, live: Live) -> None:
    acme = open_ids(live, tenant="acme")
    first = client.post("/api/dlq/replay", json={"filter": {"tenant": "acme"}}).json()
    second = client.post("/api/dlq/replay", json={"filter": {"tenant": "globex", "since": "1d"}}).json()

    newest = client.get("/api/redrives?limit=1").json()
    assert [redrive["id"] for redrive in newest["redrives"]] == [second["redrive_id"]]
    older = client.get(f"/api/redrives?limit=1&cursor={newest['next_cursor']}").json()
    assert [redrive["id"] for redrive in older["redrives"]] == [first["redrive_id"]] and older["next_cursor"] is None
    assert newest["redrives"][0]["filters"]["since"].endswith("+00:00")  # stored as seconds, shown as a time

    shown = client.get(f"/api/redrives/{first['redrive_id']}").json()
    assert (shown["state"], shown["matched"], shown["replayed"], shown["skipped"]) == ("finished", 3, 3, 0)
    assert shown["started_by"] == "api:admin" and shown["filters"] == {"tenant": "acme", "unresolved": True}
    assert sum(outcome["pending"] for outcome in shown["outcome"]) == 3  # no worker has run them yet
    trail = client.get(f"/api/dead-letters/{acme[0]}/audit").json()["entries"]
    assert [(entry["action"], entry["by"], entry["detail"]["redrive_id"]) for entry in trail] == [
        ("replayed", "api:admin", first["redrive_id"])
    ]
    # Who acted is the credential's, never the client's word.
    problem(client.post("/api/dlq/replay", json={"filter": {"tenant": "acme"}, "by": "mallory"}), 422)


def test_cancel_stops_a_redrive_and_resume_carries_it_on_as_its_caller(client: httpx.Client, live: Live) -> None:
    matching = live.app.dlq.count(queue="default", unresolved=True)
    redrive_id = interrupted_redrive(live.app, after=2, queue="default")
    shown = client.get(f"/api/redrives/{redrive_id}").json()
    assert (shown["state"], shown["replayed"], shown["matched"], shown["started_by"]) == ("running", 2, matching, "ops")

    cancelled = client.post(f"/api/redrives/{redrive_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert "not running (it is cancelled)" in problem(client.post(f"/api/redrives/{redrive_id}/cancel"), 409)["detail"]

    resumed = client.post(f"/api/redrives/{redrive_id}/resume")
    assert resumed.status_code in (200, 202), resumed.text
    if resumed.status_code == 202:  # still running after a second: it goes on in the server
        assert resumed.headers["location"] == f"/api/redrives/{redrive_id}"
    assert finished(live, redrive_id)
    assert "finished" in problem(client.post(f"/api/redrives/{redrive_id}/resume"), 409)["detail"]
    replays = [entry.by or "" for entry in live.app.dlq.audit_log(limit=100) if entry.action == "replayed"]
    assert sorted(replays) == ["api:admin"] * (matching - 2) + ["ops"] * 2
    assert open_ids(live) == []


def test_unknown_ids_are_404_and_the_read_only_token_may_follow_but_not_change(live: Live) -> None:
    redrive_id = interrupted_redrive(live.app, after=1, tenant="acme")
    with live.client() as client:
        problem(client.get("/api/redrives/NOPE"), 404)
        problem(client.get("/api/dead-letters/NOPE/audit"), 404)
        for action in ("cancel", "resume"):
            problem(client.post(f"/api/redrives/NOPE/{action}"), 404)
    with live.client(READ_ONLY_AUTH) as reader:
        assert reader.get(f"/api/redrives/{redrive_id}").json()["state"] == "running"
        assert reader.get("/api/audit").status_code == 200
        for action in ("cancel", "resume"):
            problem(reader.post(f"/api/redrives/{redrive_id}/{action}"), 403)
    redrive = live.app.dlq.get_redrive(RedriveId(redrive_id))
    assert redrive is not None and (redrive.state, redrive.replayed) == ("running", 1)


def test_the_audit_trail_and_log_say_who_did_what_with_payloads_redacted(client: httpx.Client, live: Live) -> None:
    edited, abandoned = open_ids(live, tenant="acme")[:2]
    fixed = {"args": [], "kwargs": {"to": PHONE, "body": "fixed"}}
    assert client.post(f"/api/dead-letters/{edited}/replay", json={"payload": fixed}).status_code == 201
    client.post(f"/api/dead-letters/{abandoned}/abandon", json={"note": f"customer {PHONE} moved away"})
    assert client.post("/api/dlq/purge", json={"older_than": "30d"}).json()["purged"] == 1

    trail = client.get(f"/api/dead-letters/{edited}/audit")
    (entry,) = trail.json()["entries"]
    assert (entry["action"], entry["by"]) == ("replayed", "api:admin")
    assert entry["detail"]["payload"]["kwargs"] == {"to": "[redacted phone]", "body": "fixed"}
    assert entry["detail"]["original_payload"]["kwargs"]["api_token"] == REDACTED

    log = client.get("/api/audit")
    entries = log.json()["entries"]
    assert [(e["action"], e["dead_letter_id"], e["by"]) for e in entries] == [
        ("purged", None, "api:admin"), ("abandoned", abandoned, "api:admin"), ("replayed", edited, "api:admin"),
    ]  # fmt: skip
    assert entries[0]["detail"]["count"] == 1 and entries[0]["detail"]["filters"]["until"].endswith("+00:00")
    assert entries[1]["detail"]["note"] == "customer [redacted phone] moved away"
    assert PHONE not in trail.text + log.text

    page = client.get("/api/audit?limit=2").json()
    rest = client.get(f"/api/audit?limit=2&cursor={page['next_cursor']}").json()
    assert [e["id"] for e in page["entries"] + rest["entries"]] == [e["id"] for e in entries]
    assert rest["next_cursor"] is None

    client.post("/api/dlq/purge", json={"filter": {"tenant": "acme"}})
    assert client.get(f"/api/dead-letters/{edited}/audit").json()["entries"] == [entry]  # it outlives the letter
    client.post("/api/dlq/purge", json={"older_than": "999999w"})  # before year 1: shown as year 1
    assert client.get("/api/audit?limit=1").json()["entries"][0]["detail"]["filters"]["until"].startswith("0001-")


@pytest.mark.parametrize(
    ("scope", "front_end", "expected"),
    [
        ({SOURCE_KEY: "bearer", ACCESS_KEY: "write"}, "api", "api:admin"),
        ({SOURCE_KEY: "session", ACCESS_KEY: "write"}, "dashboard", "dashboard:admin"),
        ({SOURCE_KEY: "bearer", ACCESS_KEY: "write"}, "dashboard", "api:admin"),  # a token sent to the dashboard
        ({SOURCE_KEY: None, ACCESS_KEY: "write"}, "api", "api:open"),  # a server without tokens
    ],
)
def test_the_caller_is_named_after_the_credential_that_was_checked(
    scope: dict[str, object], front_end: str, expected: str
) -> None:
    assert caller(scope, front_end=front_end) == expected
