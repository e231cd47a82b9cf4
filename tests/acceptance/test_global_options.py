"""``--url`` and ``--app`` work before the command and after it (``jobq worker --app tasks:app``, as celery and
procrastinate users type it); given after, they win over the group's and the environment's."""

from __future__ import annotations

import pytest

from .conftest import Shop


@pytest.mark.parametrize("where", ["before", "after"])
def test_worker_finds_the_app_at_either_level(empty_shop: Shop, where: str) -> None:
    job = empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "ann"}').stdout.strip()
    app = ["--app", "shop:app"]
    args = [*app, "worker", "--burst"] if where == "before" else ["worker", "--burst", *app]
    result = empty_shop.jobq(*args)
    assert result.returncode == 0, result.stderr
    assert "1 succeeded" in result.stderr
    with empty_shop.app() as application:
        assert getattr(application.get_job(job), "status", None) == "succeeded"


@pytest.mark.parametrize(
    "command", [("stats",), ("jobs", "list"), ("dlq", "list"), ("dlq", "groups"), ("check",)], ids=" ".join
)
@pytest.mark.parametrize("where", ["before", "after"])
def test_url_at_either_level_names_the_database(shop: Shop, command: tuple[str, ...], where: str) -> None:
    url = ["--url", shop.url]
    args = [*url, "--json", *command] if where == "before" else ["--json", *command, *url]
    result = shop.jobq(*args, env={"JOBQ_URL": "sqlite:///nowhere/jobq.db"})
    assert result.returncode in (0, 1), result.stderr  # check answers 1 when a threshold is crossed
    assert "no database" not in result.stderr


def test_the_subcommand_value_wins_over_the_group_value(shop: Shop) -> None:
    result = shop.jobq("--url", "sqlite:///nowhere/jobq.db", "--json", "stats", "--url", shop.url)
    assert result.returncode == 0, result.stderr
    wrong = shop.jobq("--url", shop.url, "stats", "--url", "sqlite:///nowhere/jobq.db")
    assert wrong.returncode == 1 and "no database at nowhere/jobq.db" in wrong.stderr


def test_app_after_a_dlq_command_serves_it(shop: Shop) -> None:
    result = shop.jobq("--json", "dlq", "list", "--app", "shop:app", "--url", shop.url)
    assert result.returncode == 0, result.stderr


def test_log_level_error_silences_the_warning_per_dead_letter(empty_shop: Shop) -> None:
    empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "bob"}')
    quiet = empty_shop.jobq("worker", "--app", "shop:app", "--burst", "--log-level", "error")
    assert quiet.returncode == 0, quiet.stderr
    assert "moved to DLQ" not in quiet.stderr and " INFO " not in quiet.stderr
    assert "0 succeeded, 1 retried, 1 dead" in quiet.stderr  # the summary is output, not a log line
    empty_shop.jobq("enqueue", "greet", "--kwargs", '{"name": "bob"}')
    warned = empty_shop.jobq("worker", "--app", "shop:app", "--burst", env={"JOBQ_LOG_LEVEL": "warning"})
    assert "moved to DLQ" in warned.stderr and " INFO " not in warned.stderr


def test_replay_by_id_with_no_terminal_replays_and_replay_all_still_asks(shop: Shop) -> None:
    letter = shop.json("dlq", "list", "--task", "greet")["dead_letters"][0]["id"]
    done = shop.jobq("dlq", "retry", letter, input="")
    assert done.returncode == 0, done.stderr
    assert f"{letter}  replayed as " in done.stdout
    asked = shop.jobq("dlq", "replay", "--all", input="")
    assert asked.returncode == 1 and "[y/N]" in asked.stderr
