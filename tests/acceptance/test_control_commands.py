"""``jobq jobs cancel``, ``jobq queues`` and ``jobq periodic list`` through the installed command."""

from __future__ import annotations

from .conftest import Shop, one_error_line


def test_cancel_by_id_and_by_filter_changes_only_what_it_names(empty_shop: Shop) -> None:
    first = empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "ann"}', "--delay", "1h").stdout.strip()
    second = empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "cy"}').stdout.strip()
    kept = empty_shop.jobq("enqueue", "send_sms", "--kwargs", '{"to": "+15551230001", "body": "x"}').stdout.strip()

    cancelled = empty_shop.json("jobs", "cancel", first, env={"JOBQ_BY": "ann"})
    assert cancelled == {"results": [{"job_id": first, "cancelled": True}]}
    result = empty_shop.jobq("cancel", "--task", "greet", "--yes", "--by", "ops")
    assert result.returncode == 0, result.stderr
    assert "Cancelled 1 queued jobs" in result.stdout
    with empty_shop.app() as app:
        assert [app.get_job(i).status for i in (first, second, kept)] == ["cancelled", "cancelled", "queued"]  # type: ignore[union-attr]
        by_filter, by_id = app.dlq.audit_log()  # newest first
        assert (by_id.by, by_id.detail) == ("ann", {"job_id": first, "was": "queued"})
        assert (by_filter.by, by_filter.detail["filters"], by_filter.detail["cancelled"]) == (
            "ops",
            {"task": "greet"},
            1,
        )


def test_cancel_of_an_unknown_job_or_without_a_target_is_one_line(empty_shop: Shop) -> None:
    empty_shop.jobq("migrate")
    result = empty_shop.jobq("jobs", "cancel", "NOSUCHJOB")
    assert result.returncode == 1 and one_error_line(result) == "Error: no job NOSUCHJOB"
    result = empty_shop.jobq("jobs", "cancel")
    assert result.returncode == 2 and "give job ids, or filters" in one_error_line(result)


def test_a_queue_is_paused_listed_and_resumed(empty_shop: Shop) -> None:
    empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "ann"}', "--queue", "mail")
    assert empty_shop.jobq("queue", "pause", "mail", "--by", "ops").stdout.strip() == "Queue mail paused."
    [mail] = [q for q in empty_shop.json("queues", "list")["queues"] if q["queue"] == "mail"]
    assert (mail["paused"], mail["paused_by"], mail["queued"]) == (True, "ops", 1)
    assert empty_shop.json("stats")["paused"] == ["mail"]
    assert empty_shop.jobq("queues", "resume", "mail").stdout.strip() == "Queue mail resumed."
    assert empty_shop.json("stats")["paused"] == []
    result = empty_shop.jobq("queues", "pause", "nosuch")
    assert result.returncode == 1 and "no queue named 'nosuch'" in one_error_line(result)


def test_periodic_list_needs_the_app_and_shows_its_schedules(empty_shop: Shop) -> None:
    (empty_shop.folder / "timed.py").write_text(
        "import jobq\nfrom shop import app, greet\napp.periodic('*/10 * * * *', kwargs={'name': 'ann'})(greet)\n"
    )
    empty_shop.jobq("migrate")
    result = empty_shop.jobq("periodic", "list")
    assert result.returncode == 1 and "give --app" in one_error_line(result)
    [schedule] = empty_shop.json("--app", "timed:app", "periodic", "list")["periodic"]
    assert (schedule["name"], schedule["schedule"], schedule["last_run"]) == ("greet", "*/10 * * * *", None)
    assert schedule["next_run"].endswith("0:00+00:00")
