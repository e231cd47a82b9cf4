"""Every state-changing endpoint over real HTTP: enqueue, replay, abandon (one and many), purge, import."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from jobq.job import DeadLetterId
from jobq.serialize import dead_letter_to_dict
from jobq.web import Limits

from .conftest import OLD_LETTER, PHONE, Live, ServerFactory, problem


def open_ids(live: Live, **filters: Any) -> list[str]:
    return [letter.id for letter in live.app.dlq.list(limit=1000, resolution="open", **filters)]


def test_enqueue_stores_the_job_and_answers_where_it_is(client: httpx.Client, live: Live) -> None:
    call = {"task": "send_sms", "kwargs": {"to": PHONE, "body": "hi"}, "tenant": "acme", "key": "msg-7",
            "delay": 60, "priority": 5, "max_attempts": 4}  # fmt: skip
    response = client.post("/api/jobs", json=call)
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    assert response.headers["location"] == f"/api/jobs/{job_id}"
    job = live.app.get_job(job_id)
    assert job is not None and job.status == "queued" and job.payload["kwargs"]["to"] == PHONE
    assert (job.tenant, job.key, job.priority, job.max_attempts) == ("acme", "msg-7", 5, 4)
    shown = client.get(response.headers["location"]).json()
    assert shown["id"] == job_id and shown["payload"]["kwargs"]["to"] == "[redacted phone]"


def test_enqueue_with_a_pending_unique_key_returns_the_pending_job(client: httpx.Client) -> None:
    call = {"task": "send_sms", "kwargs": {"to": "+15551230009", "body": "x"}, "unique_key": "once", "delay": 60}
    first, second = (client.post("/api/jobs", json=call).json()["job_id"] for _ in range(2))
    assert first == second


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"kwargs": {}}, 422),
        ({"task": "send_sms", "colour": "red"}, 422),
        ({"task": "send_sms", "delay": 1, "run_at": "2030-01-01T00:00:00Z"}, 422),
        ({"task": "send_sms", "kwargs": []}, 422),
        ({"task": "send_sms", "delay": -1}, 422),
        ({"task": "send_sms", "max_attempts": 0}, 422),
        ({"task": "send_sms", "priority": True}, 422),
        ({"task": ""}, 422),
        ([], 422),
        ("not json", 400),
        ('{"task": "send_sms", "kwargs": {"x": NaN}}', 400),
        ('{"task": "send_sms", "kwargs": {"x": "\\u0000"}}', 400),
        ('{"task": "send_sms", "kwargs": {"x": "\\ud800"}}', 400),
        ("[" * 100_000, 400),
    ],
)
def test_a_bad_enqueue_is_a_4xx_problem_and_stores_nothing(
    client: httpx.Client, live: Live, body: Any, status: int
) -> None:
    before = len(live.app.list_jobs(limit=1000))
    if isinstance(body, str):
        response = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    else:
        response = client.post("/api/jobs", json=body)
    problem(response, status)
    assert len(live.app.list_jobs(limit=1000)) == before


def test_a_body_that_is_not_json_is_refused_as_415(client: httpx.Client) -> None:
    response = client.post("/api/jobs", content="task=send_sms", headers={"content-type": "text/plain"})
    problem(response, 415)
    response = client.post("/api/jobs", data={"task": "send_sms"})
    problem(response, 415)


def test_replay_makes_one_new_job_and_refuses_a_second_unless_forced(client: httpx.Client, live: Live) -> None:
    letter_id = open_ids(live, tenant="acme")[0]
    response = client.post(f"/api/dead-letters/{letter_id}/replay")
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    assert response.json() == {"dead_letter_id": letter_id, "job_id": job_id}
    assert response.headers["location"] == f"/api/jobs/{job_id}"
    letter = live.app.dlq.get(DeadLetterId(letter_id))
    assert letter is not None and letter.resolution == "replayed" and letter.replayed_as == job_id
    job = live.app.get_job(job_id)
    assert job is not None and job.status == "queued" and job.attempts == 0 and job.replay_of == letter_id

    assert "already" in problem(client.post(f"/api/dead-letters/{letter_id}/replay", json={}), 409)["detail"]
    forced = client.post(f"/api/dead-letters/{letter_id}/replay", json={"force": True})
    assert forced.status_code == 201 and forced.json()["job_id"] != job_id
    problem(client.post("/api/dead-letters/NOPE/replay"), 404)


def test_edit_then_replay_runs_the_new_arguments(client: httpx.Client, live: Live) -> None:
    letter_id = open_ids(live, task="send_sms", tenant="acme")[0]
    payload = {"args": [], "kwargs": {"to": "+15551230003", "body": "fixed"}}
    job_id = client.post(f"/api/dead-letters/{letter_id}/replay", json={"payload": payload}).json()["job_id"]
    job = live.app.get_job(job_id)
    assert job is not None and job.payload == payload
    letter = live.app.dlq.get(DeadLetterId(letter_id))
    assert letter is not None and letter.payload["kwargs"]["to"] != "+15551230003"  # the original is kept


def test_abandon_keeps_the_note_and_refuses_a_resolved_letter(client: httpx.Client, live: Live) -> None:
    letter_id = open_ids(live)[0]
    response = client.post(f"/api/dead-letters/{letter_id}/abandon", json={"note": "customer left"})
    assert response.json() == {"dead_letter_id": letter_id, "outcome": "abandoned"}
    letter = live.app.dlq.get(DeadLetterId(letter_id))
    assert letter is not None and (letter.resolution, letter.note) == ("abandoned", "customer left")
    assert "abandoned" in problem(client.post(f"/api/dead-letters/{letter_id}/abandon"), 409)["detail"]
    problem(client.post("/api/dead-letters/NOPE/abandon"), 404)


def test_bulk_replay_by_ids_reports_each(client: httpx.Client, live: Live) -> None:
    ids = open_ids(live, tenant="acme")[:2]
    report = client.post("/api/dlq/replay", json={"ids": [*ids, "NOPE", ids[0]]}).json()
    assert report["matched"] == 2 and report["changed"] == 2 and not report["dry_run"]
    outcomes = {result["dead_letter_id"]: result["outcome"] for result in report["results"]}
    assert outcomes == {ids[0]: "replayed", ids[1]: "replayed", "NOPE": "not_found"}
    again = client.post("/api/dlq/replay", json={"ids": ids}).json()
    assert [result["outcome"] for result in again["results"]] == ["already_replayed"] * 2


def test_bulk_replay_by_filter_counts_first_then_replays_every_match_as_one_redrive(
    client: httpx.Client, live: Live
) -> None:
    # As app.dlq.replay_many: the unresolved ones (open, and pending recovery).
    expected = [letter.id for letter in live.app.dlq.list(limit=1000, queue="default", unresolved=True)]
    dry = client.post("/api/dlq/replay", json={"filter": {"queue": "default"}, "dry_run": True}).json()
    assert dry == {"matched": len(expected), "dry_run": True, "changed": 0, "results": [], "next_cursor": None,
                   "redrive_id": None, "state": None}  # fmt: skip
    assert live.app.dlq.count(unresolved=True) == len(expected) and live.app.dlq.list_redrives() == []

    report = client.post("/api/dlq/replay", json={"filter": {"queue": "default"}}).json()
    assert (report["matched"], report["changed"], report["state"]) == (len(expected), len(expected), "finished")
    assert [result["dead_letter_id"] for result in report["results"]] == expected
    assert live.app.dlq.count(unresolved=True) == 0
    assert len(live.app.list_jobs(status="queued", limit=1000)) == len(expected) + 1  # and the scheduled one
    redrive = live.app.dlq.get_redrive(report["redrive_id"])
    assert redrive is not None and (redrive.replayed, redrive.started_by) == (len(expected), "api:admin")


def test_bulk_abandon_by_filter_notes_each(client: httpx.Client, live: Live) -> None:
    report = client.post("/api/dlq/abandon", json={"filter": {"tenant": "acme"}, "note": "bad numbers"}).json()
    assert report["matched"] == report["changed"] == 3
    for letter in live.app.dlq.list(tenant="acme", limit=100, with_payload=True):
        assert (letter.resolution, letter.note) == ("abandoned", "bad numbers")
    assert open_ids(live, tenant="acme") == []


def test_bulk_requests_are_capped(start: ServerFactory) -> None:
    live = start(limits=Limits(rate=None, max_bulk=2))
    with live.client() as client:
        problem(client.post("/api/dlq/replay", json={"ids": ["A", "B", "C"]}), 422)
        problem(client.post("/api/dlq/replay", json={"filter": {}, "limit": 3}), 422)
        open_before = live.app.dlq.count(resolution="open")
        report = client.post("/api/dlq/abandon", json={"filter": {}}).json()  # open ones, by default
        assert report["matched"] == open_before > 2
        assert report["changed"] == 2 and report["next_cursor"]


@pytest.mark.parametrize(
    "body", [{}, {"ids": ["A"], "filter": {}}, {"ids": []}, {"filter": {"class": "user_error"}}, {"filter": []}]
)
def test_a_bulk_request_selects_by_ids_or_by_filter(client: httpx.Client, body: dict[str, Any]) -> None:
    problem(client.post("/api/dlq/replay", json=body), 422)


def test_purge_by_age_by_filter_and_everything(client: httpx.Client, live: Live) -> None:
    assert client.post("/api/dlq/purge", json={"older_than": "30d", "dry_run": True}).json() == {
        "dry_run": True, "matched": 1, "purged": 0,
    }  # fmt: skip
    assert live.app.dlq.count() == 7
    assert client.post("/api/dlq/purge", json={"older_than": "30d"}).json()["purged"] == 1
    assert live.app.dlq.get(OLD_LETTER["id"]) is None
    before = {"older_than": "2000-01-01T00:00:00Z", "filter": {"tenant": "acme"}}
    assert client.post("/api/dlq/purge", json=before).json()["purged"] == 0
    assert client.post("/api/dlq/purge", json={"filter": {"tenant": "acme"}}).json()["purged"] == 3
    problem(client.post("/api/dlq/purge", json={}), 422)
    problem(client.post("/api/dlq/purge", json={"filter": {}}), 422)
    problem(client.post("/api/dlq/purge", json={"filter": {"until": "1d"}}), 422)  # older_than says until when
    assert client.post("/api/dlq/purge", json={"everything": True}).json()["purged"] == 3
    assert live.app.dlq.count() == 0


def test_import_stores_new_dead_letters_and_skips_known_ones(client: httpx.Client, live: Live) -> None:
    letter = live.app.dlq.list(limit=1, with_payload=True)[0]
    known = json.dumps(dead_letter_to_dict(letter))
    new = json.dumps({**dead_letter_to_dict(letter), "id": "01IMPORTED0000000000000000"})
    response = client.post(
        "/api/dlq/import", content=f"{known}\n{new}\n", headers={"content-type": "application/x-ndjson"}
    )
    assert response.json() == {"imported": 1}
    assert client.get("/api/dead-letters/01IMPORTED0000000000000000").json()["job_id"] == letter.job_id


def test_a_bad_import_stores_nothing(client: httpx.Client, live: Live) -> None:
    ndjson = {"content-type": "application/x-ndjson"}
    valid = json.dumps({**OLD_LETTER, "id": "01IMPORTED0000000000000001"})
    assert (
        "line 2" in problem(client.post("/api/dlq/import", content=f"{valid}\n{{oops", headers=ndjson), 422)["detail"]
    )
    problem(client.post("/api/dlq/import", content=f'{valid}\n{{"id": "x"}}', headers=ndjson), 422)
    problem(client.post("/api/dlq/import", content=b"\xff\xfe", headers=ndjson), 400)
    problem(client.post("/api/dlq/import", content="", headers=ndjson), 400)
    problem(client.post("/api/dlq/import", content=valid, headers={"content-type": "application/json"}), 415)
    assert live.app.dlq.count() == 7
