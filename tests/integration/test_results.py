"""What a handler returns is kept on its job, on every backend: JSON values only, as they went in."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import jobq

from .harness import get_job, work


def test_a_handler_return_value_is_kept_on_its_job_exactly(url: str) -> None:
    with jobq.App(url) as app:

        @app.task(name="render")
        def render(scene: str) -> dict[str, Any]:
            return {"scene": scene, "frames": [1, 2.5, 1e16], "ok": True, "note": None}

        @app.task(name="quiet")
        async def quiet() -> None:
            return None

        rendered, silent = render.enqueue("s-1"), quiet.enqueue()
        assert get_job(app, rendered).result is None  # nothing before it ran
        work(app)
        result = get_job(app, rendered).result
        assert result == {"scene": "s-1", "frames": [1, 2.5, 1e16], "ok": True, "note": None}
        assert isinstance(result["frames"][2], float)  # 1e16 stays a float, as payloads do
        assert get_job(app, silent).status == "succeeded"
        assert get_job(app, silent).result is None


def test_a_return_value_that_is_not_json_is_not_kept_and_the_job_still_succeeds(
    url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with jobq.App(url) as app:

        @app.task(name="opaque")
        def opaque() -> object:
            return {"when": object()}

        job_id = opaque.enqueue()
        with caplog.at_level(logging.WARNING, logger="jobq.worker"):
            work(app)
        assert get_job(app, job_id).status == "succeeded"
        assert get_job(app, job_id).result is None
        assert f"Job {job_id}: return value is not JSON: the value['when'] is an object" in caplog.text
