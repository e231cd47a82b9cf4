"""``GET /metrics``: Prometheus text read from the database at scrape time, parsed by prometheus_client."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

import jobq
from jobq.job import ERROR_CLASSES, RESOLUTIONS
from jobq.quota import enforce_quota

from .conftest import READ_ONLY_AUTH, Live, problem

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]
DEFAULT = (("queue", "default"),)


def scrape(live: Live) -> dict[str, Samples]:
    """Family name → (sample name, sorted labels) → value."""
    with live.client(READ_ONLY_AUTH) as client:
        response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        family.name: {(sample.name, tuple(sorted(sample.labels.items()))): sample.value for sample in family.samples}
        for family in text_string_to_metric_families(response.text)
    }


def test_every_metric_is_named_jobq(live: Live) -> None:
    families = scrape(live)
    assert all(name.startswith("jobq_") for name in families)
    assert {"jobq_jobs", "jobq_dead_letters", "jobq_jobs_processed", "jobq_job_duration_seconds"} <= set(families)


def test_metrics_count_jobs_by_queue_and_state(live: Live) -> None:
    jobs = scrape(live)["jobq_jobs"]
    for state, count in live.app.stats()["queues"]["default"].items():
        assert jobs[("jobq_jobs", (("queue", "default"), ("state", state)))] == count


def test_metrics_count_dead_letters_by_class_and_resolution(live: Live) -> None:
    dead = scrape(live)["jobq_dead_letters"]
    assert len(dead) == len(ERROR_CLASSES) * len(RESOLUTIONS)  # every pair, zeros included: stable series
    assert dead[("jobq_dead_letters", (("error_class", "user_error"), ("resolution", "open")))] == 3
    assert sum(dead.values()) == 7


def test_metrics_follow_the_database_between_scrapes(live: Live) -> None:
    letter = live.app.dlq.list(error_class="unknown", limit=1)[0]
    live.app.dlq.abandon(letter.id, note="scrape me")
    dead = scrape(live)["jobq_dead_letters"]
    assert dead[("jobq_dead_letters", (("error_class", "unknown"), ("resolution", "abandoned")))] == 1
    assert dead[("jobq_dead_letters", (("error_class", "unknown"), ("resolution", "open")))] == 0


def test_metrics_add_up_what_every_worker_tallied(live: Live) -> None:
    families = scrape(live)
    tallied = live.app.metrics()
    for name in ("processed", "succeeded", "failed", "dead_lettered"):
        counter = families[f"jobq_jobs_{name}"][(f"jobq_jobs_{name}_total", DEFAULT)]
        assert counter == tallied.counters[(name, "default")]
    assert families["jobq_jobs_dead_lettered"][("jobq_jobs_dead_lettered_total", DEFAULT)] == 6  # not the import
    processed = families["jobq_jobs_processed"][("jobq_jobs_processed_total", DEFAULT)]
    for name in ("jobq_job_duration_seconds", "jobq_queue_wait_seconds"):
        samples = families[name]
        assert samples[(f"{name}_count", DEFAULT)] == processed
        assert samples[(f"{name}_sum", DEFAULT)] >= 0
        buckets = sorted(
            (float(dict(labels)["le"]), value)
            for (sample, labels), value in samples.items()
            if sample.endswith("_bucket")
        )
        assert buckets[-1] == (float("inf"), processed)
        assert [value for _, value in buckets] == sorted(value for _, value in buckets)  # cumulative


def test_a_replay_shows_in_the_counter(live: Live) -> None:
    letter = live.app.dlq.list(resolution="open", limit=1)[0]
    with live.client() as client:
        assert client.post(f"/api/dead-letters/{letter.id}/replay").status_code == 201
    assert scrape(live)["jobq_jobs_replayed"][("jobq_jobs_replayed_total", DEFAULT)] == 1


def test_metrics_need_a_token(live: Live) -> None:
    problem(httpx.get(f"{live.url}/metrics"), 401)


def test_hook_deliveries_are_gauged_by_state(live: Live) -> None:
    hooks = scrape(live)["jobq_hook_deliveries"]
    assert hooks == {("jobq_hook_deliveries", (("state", state),)): 0 for state in ("pending", "delivered", "failed")}


def test_letters_pruned_by_the_quota_show_in_their_counter(live: Live, tmp_path: Path) -> None:
    stored = live.app.dlq.count() - live.app.dlq.count(resolution="pending_recovery")  # those are never pruned
    assert enforce_quota(live.app.backend, jobq.Quota(tmp_path, max_letters=stored - 2), clock=live.app.clock) == 2
    pruned = scrape(live)["jobq_dlq_pruned"]
    assert sum(value for (sample, _), value in pruned.items() if sample == "jobq_dlq_pruned_total") == 2


def test_a_paused_queue_is_gauged_until_resumed(live: Live) -> None:
    assert scrape(live)["jobq_queue_paused"] == {}
    live.app.pause("default")
    assert scrape(live)["jobq_queue_paused"] == {("jobq_queue_paused", (("queue", "default"),)): 1}
    live.app.resume("default")
    assert scrape(live)["jobq_queue_paused"] == {}
