"""Read commands: ``stats``, ``jobs list|inspect``, ``dlq list|inspect|groups``, ``check`` — tables and JSON."""

from __future__ import annotations

import re

import pytest

from .conftest import Shop, one_error_line

DEAD_LETTER_KEYS = {
    "id", "job_id", "task", "queue", "tenant", "key", "attempts", "max_attempts", "priority", "error_type",
    "error_message", "error_class", "fingerprint", "failed_at", "resolution", "replayed_at", "replayed_as",
    "note", "created_at", "recover_at", "recovery_round", "previous_id",
}  # fmt: skip
ERROR_KEYS = {"attempt", "at", "error_type", "message", "traceback", "worker", "duration"}
JOB_KEYS = {
    "id", "task", "queue", "status", "attempts", "max_attempts", "payload", "tenant", "key", "errors",
    "created_at", "run_at", "priority", "unique_key", "started_at", "finished_at", "worker", "replay_of",
    "payload_note", "result",
}  # fmt: skip


def test_stats_json_has_the_spec_shape_and_counts(shop: Shop) -> None:
    stats = shop.json("stats")
    assert set(stats) == {"dlq", "queues", "by_class", "hooks", "paused"}
    assert stats["hooks"] == {"pending": 0, "delivered": 0, "failed": 0}
    assert stats["dlq"] == {
        "total_failed": 9, "permanent_failures": 7, "last_24h": 7, "avg_retries": 2.11, "pruned": 0,
        "recovery": {"total_in_recovery": 2, "pending_recovery": 2, "recovered": 0, "abandoned": 0},
    }  # fmt: skip
    assert stats["by_class"] == {"recoverable": 2, "user_error": 2, "system_error": 2, "unknown": 3}
    assert stats["queues"] == {
        "default": {
            "queued": 0,
            "scheduled": 1,
            "running": 0,
            "succeeded": 1,
            "dead": 6,
            "cancelled": 0,
        }
    }


def test_stats_as_tables(shop: Shop) -> None:
    result = shop.jobq("stats")
    assert result.returncode == 0, result.stderr
    for words in ("Dead-letter queue", "total failed", "pruned", "Recovery", "by class", "Queues", "scheduled",
                  "default", "Hook deliveries", "delivered"):  # fmt: skip
        assert words in result.stdout, words


def test_json_goes_before_or_after_the_command(shop: Shop) -> None:
    before = shop.jobq("--json", "stats").stdout
    after = shop.jobq("stats", "--json").stdout
    assert before == after and before.startswith("{")


def test_jobs_list_table_shows_state_and_last_error(shop: Shop) -> None:
    result = shop.jobq("jobs", "list")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "scheduled" in out and "succeeded" in out and "dead" in out
    assert "RuntimeError: bob is not welcome" in out
    assert re.search(r"\bin 5\dm\b", out)  # the scheduled greeting, due in an hour (less the session so far)
    assert "8 jobs" in out


def test_jobs_list_filters_paginates_and_has_spec_keys(shop: Shop) -> None:
    dead = shop.json("jobs", "list", "--status", "dead")
    assert len(dead["jobs"]) == 6 and {job["status"] for job in dead["jobs"]} == {"dead"}
    assert set(dead["jobs"][0]) == JOB_KEYS
    first = shop.json("jobs", "list", "--limit", "5")
    assert len(first["jobs"]) == 5 and first["next_cursor"] == first["jobs"][-1]["id"]
    rest = shop.json("jobs", "list", "--limit", "5", "--cursor", first["next_cursor"])
    assert len(rest["jobs"]) == 3 and rest["next_cursor"] is None
    assert [job["tenant"] for job in shop.json("jobs", "list", "--tenant", "globex")["jobs"]] == ["globex"] * 2
    assert [job["key"] for job in shop.json("jobs", "list", "--key", "visitor-ann")["jobs"]] == ["visitor-ann"]


def test_jobs_inspect_shows_payload_and_error_history(shop: Shop) -> None:
    job_id = shop.json("jobs", "list", "--key", "visitor-bob")["jobs"][0]["id"]
    result = shop.jobq("jobs", "inspect", job_id)
    assert result.returncode == 0, result.stderr
    for words in (job_id, '"name": "bob"', "Error history (2 attempts failed)", "#1", "#2", "Traceback",
                  'raise RuntimeError("bob is not welcome")'):  # fmt: skip
        assert words in result.stdout, words
    data = shop.json("jobs", "inspect", job_id)
    assert set(data) == JOB_KEYS and data["status"] == "dead"
    assert [set(error) for error in data["errors"]] == [ERROR_KEYS, ERROR_KEYS]


def test_jobs_inspect_of_an_unknown_id_is_one_line(shop: Shop) -> None:
    result = shop.jobq("jobs", "inspect", "01NOPE")
    assert result.returncode == 1
    assert one_error_line(result) == "Error: no job 01NOPE"


def test_dlq_list_at_80_columns_drops_columns_before_cutting_a_value_and_cuts_only_messages(shop: Shop) -> None:
    narrow = shop.jobq("dlq", "list", env={"COLUMNS": "80"})
    assert narrow.returncode == 0, narrow.stderr
    lines = narrow.stdout.splitlines()
    assert lines[0].split() == ["id", "task", "tenant", "class", "state"]  # attempts and age go first
    assert all(len(line) <= 80 for line in lines)
    assert "KeyError: 'template [welcome] not found for locale fr-CA; the fallback" in narrow.stdout
    rows = [line.split() for line in lines[1:-1] if not line.startswith(" ")]
    assert {row[-1] for row in rows} == {"open", "pending_recovery"}  # whole states, whole ids, whole names
    assert {row[1] for row in rows} == {"send_sms", "greet"} and all(len(row[0]) == 26 for row in rows)
    assert all(line.startswith("    ") for line in lines if line.endswith("…"))  # only messages are cut
    assert lines[-1] == "9 of 9 dead letters"
    middle = shop.jobq("dlq", "list", env={"COLUMNS": "100"}).stdout
    assert middle.splitlines()[0].split() == ["id", "task", "tenant", "class", "att", "failed", "state"]
    assert "ago" in middle and "40d ago" in middle and "user_error" in middle
    wide = shop.jobq("dlq", "list", env={"COLUMNS": "160"}).stdout.splitlines()
    assert wide[0].split()[-1] == "error"
    assert all(len(line) <= 160 for line in wide)
    assert any("user_error" in line and "HTTP 400: invalid phone number" in line for line in wide)
    assert any("send_sms" in line and "pending_recovery" in line for line in wide)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (("--tenant", "globex"), 2),
        (("--class", "unknown"), 3),
        (("--task", "greet"), 1),
        (("--resolution", "pending_recovery"), 2),
        (("--search", "PHONE NUMBER"), 2),
        (("--since", "1d"), 7),
        (("--until", "30d"), 2),
        (("--since", "2000-01-01T00:00", "--tenant", "initech", "--class", "system_error"), 2),
    ],
)
def test_dlq_list_filters(shop: Shop, filters: tuple[str, ...], expected: int) -> None:
    assert len(shop.json("dlq", "list", *filters)["dead_letters"]) == expected


def test_dlq_list_json_is_light_unless_asked_and_paginates(shop: Shop) -> None:
    page = shop.json("dlq", "list", "--limit", "4")
    assert set(page) == {"dead_letters", "next_cursor"}
    assert set(page["dead_letters"][0]) == DEAD_LETTER_KEYS
    full = shop.json("dlq", "list", "--limit", "4", "--with-payload")
    assert set(full["dead_letters"][0]) == DEAD_LETTER_KEYS | {"payload", "payload_note", "errors", "error_traceback"}
    ids = [x["id"] for x in page["dead_letters"]]
    while page["next_cursor"]:
        page = shop.json("dlq", "list", "--limit", "4", "--cursor", page["next_cursor"])
        ids += [x["id"] for x in page["dead_letters"]]
    assert len(ids) == len(set(ids)) == 9
    footer = shop.jobq("dlq", "list", "--limit", "4").stdout.splitlines()[-1]
    assert footer.startswith("4 of 9 dead letters; next page: --cursor ")


def test_dlq_list_of_nothing_says_so(shop: Shop) -> None:
    result = shop.jobq("dlq", "list", "--tenant", "nobody")
    assert (result.returncode, result.stdout.strip()) == (0, "No dead letters match.")


def test_dlq_inspect_shows_everything_needed_to_understand_the_failure(shop: Shop) -> None:
    letter = shop.json("dlq", "list", "--class", "recoverable", "--tenant", "globex")["dead_letters"][0]
    result = shop.jobq("dlq", "inspect", letter["id"])
    assert result.returncode == 0, result.stderr
    for words in (letter["id"], letter["job_id"], "recoverable", letter["fingerprint"], "2 of 2",
                  '"to": "[redacted phone]"', "Error history (2 attempts failed)", "TimeoutError: provider timed out",
                  'raise TimeoutError("provider timed out")'):  # fmt: skip
        assert words in result.stdout, words
    data = shop.json("dlq", "inspect", letter["id"])
    assert set(data) == DEAD_LETTER_KEYS | {"payload", "payload_note", "errors", "error_traceback"}
    assert data["payload"] == {"args": [], "kwargs": {"to": "[redacted phone]", "body": "hi"}}
    assert [error["attempt"] for error in data["errors"]] == [1, 2]
    assert set(data["errors"][0]) == ERROR_KEYS and "Traceback" in data["errors"][0]["traceback"]


def test_dlq_inspect_of_an_unknown_id_is_one_line(shop: Shop) -> None:
    result = shop.jobq("dlq", "inspect", "01NOPE")
    assert result.returncode == 1
    assert one_error_line(result) == "Error: no dead letter 01NOPE"


def test_dlq_groups_by_fingerprint_and_other_fields(shop: Shop) -> None:
    result = shop.jobq("dlq", "groups")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:2] == ["fingerprint", "count"]
    groups = shop.json("dlq", "groups")
    assert set(groups) == {"by", "groups"} and groups["by"] == "fingerprint"
    assert set(groups["groups"][0]) == {
        "value", "count", "first_seen", "last_seen", "sample_id", "sample_error_type", "sample_message",
    }  # fmt: skip
    # The same failure across jobs is one group: both KeyErrors; both invalid numbers (digits normalised away).
    assert sorted(g["count"] for g in groups["groups"]) == [1, 1, 2, 2, 3]
    by_class = {g["value"]: g["count"] for g in shop.json("dlq", "groups", "--by", "class")["groups"]}
    assert by_class == {"recoverable": 2, "user_error": 2, "system_error": 2, "unknown": 3}
    by_tenant = {g["value"]: g["count"] for g in shop.json("dlq", "groups", "--by", "tenant")["groups"]}
    assert by_tenant == {"acme": 3, "globex": 2, "initech": 3, None: 1}
    by_task = shop.json("dlq", "groups", "--by", "task", "--tenant", "globex")["groups"]
    assert [(g["value"], g["count"]) for g in by_task] == [("send_sms", 2)]


def test_check_is_healthy_with_the_default_thresholds(shop: Shop) -> None:
    result = shop.jobq("check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("OK: no threshold crossed")


def test_check_exits_1_and_names_each_threshold_crossed(shop: Shop) -> None:
    result = shop.jobq("check", "--last-24h", "5", "--avg-retries", "2", "--pending-recovery", "0")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "ALERT: last_24h is 7, above the threshold of 5",
        "ALERT: avg_retries is 2.11, above the threshold of 2",
        "ALERT: pending_recovery is 2, above the threshold of 0",
    ]
    data = shop.jobq("check", "--json", "--last-24h", "5")
    assert data.returncode == 1
    assert '"healthy": false' in data.stdout and '"name": "last_24h"' in data.stdout


def test_bad_times_and_choices_are_usage_errors(shop: Shop) -> None:
    since = shop.jobq("dlq", "list", "--since", "yesterday")
    assert since.returncode == 2
    assert "'yesterday' is not a time" in one_error_line(since)
    by = shop.jobq("dlq", "groups", "--by", "colour")
    assert by.returncode == 2
    assert "Invalid value for '--by'" in one_error_line(by)


def test_check_alerts_on_a_failure_never_seen_before(shop: Shop) -> None:
    result = shop.jobq("check", env={"JOBQ_CHECK_NEW_FINGERPRINT_WINDOW": "3600"})
    assert result.returncode == 1
    (line,) = [line for line in result.stdout.splitlines() if "new_fingerprint" in line]
    assert line.startswith("ALERT: new_fingerprint is ") and "new failures " in line
    assert shop.jobq("check", "--new-fingerprint-window", "0").returncode == 0
