"""Cancel, pause and resume, and the periodic list, over real HTTP."""

from __future__ import annotations

import httpx

from .conftest import PHONE, Live, problem


def test_cancel_of_a_queued_job_is_immediate_and_audited(client: httpx.Client, live: Live) -> None:
    job_id = client.post("/api/jobs", json={"task": "send_sms", "kwargs": {"to": PHONE, "body": "x"}}).json()["job_id"]
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 200, response.text
    assert response.json() == {"job_id": job_id, "cancelled": True}
    job = live.app.get_job(job_id)
    assert job is not None and job.status == "cancelled"
    [entry] = [e for e in live.app.dlq.audit_log() if e.action == "cancelled"]
    assert entry.detail == {"job_id": job_id, "was": "queued"} and entry.by
    assert client.post(f"/api/jobs/{job_id}/cancel").json() == {"job_id": job_id, "cancelled": False}


def test_cancel_of_an_unknown_job_is_a_404_problem(client: httpx.Client) -> None:
    assert problem(client.post("/api/jobs/NOSUCHJOB/cancel"), 404)["detail"] == "no job NOSUCHJOB"


def test_cancel_by_filter_needs_a_filter(client: httpx.Client, live: Live) -> None:
    assert client.post("/api/jobs/cancel", json={}).status_code == 422
    ids = [client.post("/api/jobs", json={"task": "render_chart", "kwargs": {"scene": f"s{n}"}, "delay": 60})
           .json()["job_id"] for n in range(3)]  # fmt: skip
    response = client.post("/api/jobs/cancel", json={"task": "render_chart"})
    assert response.json() == {"cancelled": 3, "stopping": 0}
    assert {live.app.get_job(i).status for i in ids} == {"cancelled"}  # type: ignore[union-attr]


def test_pause_and_resume_show_in_queues_and_stats(client: httpx.Client) -> None:
    assert client.post("/api/queues/default/pause").json() == {"queue": "default", "paused": True, "changed": True}
    assert client.post("/api/queues/default/pause").json()["changed"] is False
    [queue] = [q for q in client.get("/api/queues").json()["queues"] if q["queue"] == "default"]
    assert queue["paused"] is True and queue["paused_at"] and queue["paused_by"]
    assert client.get("/api/stats").json()["paused"] == ["default"]
    assert client.post("/api/queues/default/resume").json() == {"queue": "default", "paused": False, "changed": True}
    assert client.get("/api/stats").json()["paused"] == []


def test_pausing_an_unknown_queue_is_a_404_problem(client: httpx.Client) -> None:
    assert "no queue named 'no-such-queue'" in problem(client.post("/api/queues/no-such-queue/pause"), 404)["detail"]


def test_periodic_lists_the_apps_schedules_with_their_next_run(client: httpx.Client, live: Live) -> None:
    assert client.get("/api/periodic").json() == {"periodic": []}  # the messaging app has none
    live.app.periodic("30 2 * * *", kwargs={"scene": "nightly"}, tz="Asia/Seoul")(live.app.tasks["render_chart"])
    [shown] = client.get("/api/periodic").json()["periodic"]
    assert shown["name"] == shown["task"] == "render_chart"
    assert shown["schedule"] == "30 2 * * * (Asia/Seoul)" and shown["kwargs"] == {"scene": "nightly"}
    assert shown["last_run"] is None and shown["next_run"].endswith("17:30:00+00:00")  # 02:30 in Seoul
