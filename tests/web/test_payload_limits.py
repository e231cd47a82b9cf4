"""The payload rule over HTTP: the API and the dashboard's edit-then-replay refuse with a 4xx naming the value,
and every page and response shows a stored payload that breaks the rule degraded, never a 500."""

from __future__ import annotations

import io
import re
import sqlite3

import httpx
import pytest

from jobq.job import DeadLetterId
from jobq.payload import MAX_DEPTH

from ..payload_values import nested, nested_text
from .conftest import Live, ServerFactory, problem


def a_letter(live: Live) -> str:
    return next(iter(live.app.dlq.list(limit=1))).id


def test_enqueue_refuses_kwargs_nested_495_deep_as_422_naming_the_path(client: httpx.Client, live: Live) -> None:
    before = len(live.app.list_jobs(limit=1000))
    body = problem(client.post("/api/jobs", json={"task": "send_sms", "kwargs": {"x": nested(495)}}), 422)
    assert re.search(r"kwargs\['x'\]\[0\].* is nested too deeply", body["detail"]), body
    assert len(live.app.list_jobs(limit=1000)) == before


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('{"task": "send_sms", "kwargs": {"x": 1e999}}', r"kwargs\['x'\] is inf \(float\)"),
        ('{"task": "send_sms", "args": [[1, -1e999]]}', r"args\[0\]\[1\] is -inf \(float\)"),
    ],
)
def test_enqueue_refuses_a_number_that_parses_as_infinity_as_422(client: httpx.Client, body: str, words: str) -> None:
    response = client.post("/api/jobs", content=body, headers={"content-type": "application/json"})
    assert re.search(words, problem(response, 422)["detail"])


def test_a_payload_at_the_depth_limit_is_stored_and_every_response_and_page_shows_it(
    start: ServerFactory,
) -> None:
    live = start(token=None, read_only_token=None)
    with live.client(follow_redirects=True) as client:
        response = client.post("/api/jobs", json={"task": "deep.echo", "kwargs": {"x": nested(MAX_DEPTH)}})
        assert response.status_code == 201, response.text
        job_id = response.json()["job_id"]
        assert client.get(f"/api/jobs/{job_id}").json()["payload"]["kwargs"]["x"] == nested(MAX_DEPTH)
        assert client.get("/api/jobs").status_code == 200
        page = client.get(f"/dashboard/jobs/{job_id}")
        assert page.status_code == 200 and "[[[[" in page.text.replace(" ", "").replace("\n", "")


def test_replay_over_the_api_refuses_an_edited_payload_beyond_the_rule(client: httpx.Client, live: Live) -> None:
    letter_id = a_letter(live)
    for payload, words in [
        ({"args": [], "kwargs": {"x": nested(495)}}, "nested too deeply"),
        ({"args": [], "kwargs": {"x": "a" * (2 * 1024 * 1024)}}, ""),
    ]:
        response = client.post(f"/api/dead-letters/{letter_id}/replay", json={"payload": payload, "force": True})
        assert 400 <= response.status_code < 500, response.text
        assert words in response.text
    body = '{"payload": {"args": [], "kwargs": {"x": 1e999}}, "force": true}'
    response = client.post(
        f"/api/dead-letters/{letter_id}/replay", content=body, headers={"content-type": "application/json"}
    )
    assert "kwargs['x'] is inf" in problem(response, 422)["detail"]


def overwrite_payloads(live: Live, text: str) -> tuple[str, str]:
    """Write ``text`` by hand as the stored payload of a dead letter and of its job; their ids."""
    letter = next(iter(live.app.dlq.list(limit=1)))
    with sqlite3.connect(live.app.url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE dead_letters SET payload = ? WHERE id = ?", (text, letter.id))
        conn.execute("UPDATE jobs SET payload = ? WHERE id = ?", (text, letter.job_id))
    return letter.id, letter.job_id


STORED = {
    "nested 100,000 deep": nested_text(100_000),
    "nested 495 deep": f'{{"args": [{nested_text(495)}], "kwargs": {{}}}}',
    "invalid JSON": '{"args": [1,',
    "NaN": '{"args": [NaN], "kwargs": {}}',
    "50 MiB": '{"args": ["' + "y" * (50 * 1024 * 1024) + '"], "kwargs": {}}',
}


@pytest.mark.parametrize("name", STORED)
def test_every_read_of_a_stored_payload_beyond_the_rule_answers_with_a_note_never_500(
    start: ServerFactory, name: str
) -> None:
    live = start(token=None, read_only_token=None)
    letter_id, job_id = overwrite_payloads(live, STORED[name])
    with live.client(follow_redirects=True) as client:
        job = client.get(f"/api/jobs/{job_id}")
        assert job.status_code == 200 and job.json()["payload"] == {"args": [], "kwargs": {}}
        assert job.json()["payload_note"].startswith("payload could not be shown")
        letter = client.get(f"/api/dead-letters/{letter_id}").json()
        assert letter["payload_note"].startswith("payload could not be shown")
        for path in ["/api/jobs?limit=200", "/api/dead-letters?with_payload=true&limit=200", "/api/dlq/export"]:
            assert client.get(path).status_code == 200, path
        for path in [f"/dashboard/jobs/{job_id}", f"/dashboard/dead-letters/{letter_id}"]:
            page = client.get(path)
            assert page.status_code == 200 and "payload could not be shown" in page.text, path
        out = io.StringIO()
        live.app.dlq.export(out)
        assert "payload could not be shown" in out.getvalue()


EDITED = {
    "nested 100,000 deep": f'{{"args": [{nested_text(100_000)}], "kwargs": {{}}}}',
    "nested 495 deep": f'{{"args": [{nested_text(495)}], "kwargs": {{}}}}',
    "1e999": '{"kwargs": {"x": 1e999}}',
    "lone surrogate": '{"kwargs": {"x": "\\ud800"}}',
    "NUL": '{"kwargs": {"x": "\\u0000"}}',
}


@pytest.mark.parametrize("name", EDITED)
def test_the_dashboard_refuses_an_edited_payload_beyond_the_rule_on_both_steps(start: ServerFactory, name: str) -> None:
    live = start(token=None, read_only_token=None)
    letter_id = a_letter(live)
    with live.client(follow_redirects=True) as client:
        page = client.get(f"/dashboard/dead-letters/{letter_id}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None, page.text[:500]
        form = {"csrf": csrf.group(1), "scope": "ids", "id": letter_id, "action": "replay", "force": "1",
                "payload": EDITED[name]}  # fmt: skip
        for step in ["/dashboard/actions", "/dashboard/actions/run"]:
            response = client.post(step, data=form, headers={"Sec-Fetch-Site": "same-origin"})
            assert response.status_code == 400, (step, response.status_code, response.text[:300])
            assert "payload" in response.text
    assert live.app.dlq.get(DeadLetterId(letter_id)) is not None
