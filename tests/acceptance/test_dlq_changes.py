"""``jobq dlq replay|retry|abandon|purge`` and ``jobq clear``: bulk changes, made safe.

Each shows the count first, stops there on ``--dry-run``, and reports what happened to each dead letter.
A change by filter (``--all``) and a deletion ask unless ``--yes`` (a no changes nothing); dead letters named
by id are changed at once, as a script expects.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from .conftest import JOBQ, OLD_DAYS, Shop, one_error_line


def ids(shop: Shop, *filters: str) -> list[str]:
    return [letter["id"] for letter in shop.json("dlq", "list", *filters)["dead_letters"]]


def test_replay_one_by_id_acts_at_once_and_reports_the_new_job_linked_both_ways(shop: Shop) -> None:
    (letter,) = ids(shop, "--task", "greet")
    result = shop.jobq("dlq", "replay", letter, input="")  # no --yes, nothing to answer with: like </dev/null
    assert "[y/N]" not in result.stderr
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith(letter))
    job_id = line.split("replayed as ")[1]
    assert shop.letter(letter).replayed_as == job_id and shop.letter(letter).resolution == "replayed"
    job = shop.json("jobs", "inspect", job_id)
    assert (job["status"], job["attempts"], job["replay_of"]) == ("queued", 0, letter)
    assert result.stdout.splitlines()[-1] == "Replayed 1 of 1 dead letter."


def test_replay_asks_first_and_no_changes_nothing(shop: Shop) -> None:
    before = shop.snapshot()
    result = shop.jobq("dlq", "replay", "--all", "--class", "unknown", input="n\n")
    assert result.returncode == 1
    assert "3 dead letters selected." in result.stdout
    assert "Replay 3 dead letters? [y/N]" in result.stderr
    assert result.stderr.strip().endswith("Error: aborted, nothing was replayed")
    assert shop.snapshot() == before
    no_answer = shop.jobq("dlq", "replay", "--all", "--class", "unknown", input="")
    assert no_answer.returncode == 1
    assert shop.snapshot() == before


def test_replay_all_with_filters_after_a_yes(shop: Shop) -> None:
    result = shop.jobq("dlq", "replay", "--all", "--class", "unknown", "--tenant", "acme", input="y\n")
    assert result.returncode == 0, result.stderr
    summary, state = result.stdout.splitlines()[-2:]
    assert summary == "Replayed 1 of 1 dead letter."
    assert state.startswith("Redrive ") and state.endswith(" finished: 1 replayed, 0 skipped of 1 matched.")
    assert [x.resolution for x in shop.letters(error_class="unknown", tenant="acme")] == ["replayed"]
    assert len(shop.letters(resolution="replayed")) == 1


def test_replay_dry_run_counts_and_changes_nothing(shop: Shop) -> None:
    before = shop.snapshot()
    result = shop.jobq("dlq", "replay", "--all", "--dry-run")
    assert (result.returncode, result.stdout.strip()) == (0, "9 dead letters selected; dry run, nothing was changed.")
    data = shop.json("dlq", "replay", "--all", "--tenant", "acme", "--dry-run")
    assert data == {"matched": 3, "dry_run": True, "replayed": 0, "results": []}
    assert shop.snapshot() == before


def test_replay_refuses_what_was_replayed_unless_forced_and_says_so_per_id(shop: Shop) -> None:
    first, second = ids(shop, "--class", "user_error")
    assert shop.jobq("dlq", "replay", first, "--yes").returncode == 0
    again = shop.jobq("dlq", "retry", first, second, "--yes")  # `retry` is the alias
    assert again.returncode == 1
    replayed_as = shop.letter(first).replayed_as
    lines = again.stdout.splitlines()
    assert f"{first}  refused: already replayed as {replayed_as} (--force replays again)" in lines
    assert any(line.startswith(f"{second}  replayed as ") for line in lines)
    assert lines[-1] == "Replayed 1 of 2 dead letters; 1 not replayed (see above)."
    forced = shop.json("dlq", "replay", first, "--yes", "--force")
    assert forced["replayed"] == 1 and forced["results"][0]["outcome"] == "replayed"
    assert shop.letter(first).replayed_as == forced["results"][0]["job_id"] != replayed_as


def test_replay_json_reports_each_outcome(shop: Shop) -> None:
    data = shop.json("dlq", "replay", "--all", "--tenant", "globex", "--yes")
    assert set(data) == {"matched", "dry_run", "interrupted", "replayed", "results", "redrive_id", "state"}
    assert (data["matched"], data["replayed"], data["interrupted"], data["state"]) == (2, 2, False, "finished")
    assert {tuple(sorted(result)) for result in data["results"]} == {("dead_letter_id", "job_id", "note", "outcome")}
    assert {result["outcome"] for result in data["results"]} == {"replayed"}


def test_replay_of_an_unknown_id_changes_nothing_even_beside_known_ones(shop: Shop) -> None:
    before = shop.snapshot()
    known = ids(shop, "--task", "greet")[0]
    result = shop.jobq("dlq", "replay", known, "01NOPE", "--yes")
    assert result.returncode == 1
    assert one_error_line(result) == "Error: no dead letter 01NOPE (nothing was changed)"
    assert shop.snapshot() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give dead-letter ids, or --all (with filters) to select by filter"),
        (("01X", "--all"), "give dead-letter ids or --all, not both"),
        (("01X", "--tenant", "acme"), "filters select dead letters with --all; they do not apply to ids"),
        (("--all", "--rate", "0"), "Invalid value for '--rate'"),
        (("--all", "--since", "30x"), "'30x' is not a time"),
    ],
)
def test_replay_usage_errors(shop: Shop, args: tuple[str, ...], message: str) -> None:
    result = shop.jobq("dlq", "replay", *args, "--yes")
    assert result.returncode == 2
    assert message in one_error_line(result)


def test_replay_is_throttled_by_rate(shop: Shop) -> None:
    started = time.monotonic()
    result = shop.jobq("dlq", "replay", "--all", "--tenant", "acme", "--rate", "10", "--yes")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started >= 0.2  # three replays at 10/s: the third starts 0.2 s after the first


def test_a_bulk_change_longer_than_a_screen_shows_progress(shop: Shop) -> None:
    result = shop.jobq("dlq", "replay", "--all", "--yes", env={"LINES": "5"})
    assert result.returncode == 0, result.stderr
    assert "Replaying" in result.stderr and "9/9" in result.stderr
    short = shop.jobq("dlq", "abandon", "--all", "--resolution", "pending_recovery", "--note", "x", "--yes")
    assert "Abandoning" not in short.stderr


def test_replayed_jobs_run_once_the_bug_is_fixed(shop: Shop) -> None:
    assert shop.jobq("dlq", "replay", "--all", "--search", "template", "--yes").returncode == 0
    worker = shop.jobq("--app", "shop:app", "worker", "--burst", env={"SHOP_FIXED": "1"})
    assert worker.returncode == 0, worker.stderr
    for letter in shop.letters(search="template"):
        assert letter.replayed_as is not None
        assert shop.json("jobs", "inspect", letter.replayed_as)["status"] == "succeeded"


def test_abandon_by_filter_asks_and_by_id_acts_at_once_with_its_note(shop: Shop) -> None:
    first, second = ids(shop, "--class", "user_error")
    before = shop.snapshot()
    declined = shop.jobq("dlq", "abandon", "--all", "--class", "user_error", "--note", "invalid numbers", input="n\n")
    assert declined.returncode == 1
    assert "Abandon 2 dead letters? [y/N]" in declined.stderr
    assert shop.snapshot() == before
    done = shop.jobq("dlq", "abandon", first, second, "--note", "invalid numbers", input="")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-3:] == [
        f"{first}  abandoned",
        f"{second}  abandoned",
        "Abandoned 2 of 2 dead letters.",
    ]
    assert {(x.resolution, x.note) for x in shop.letters(error_class="user_error")} == {
        ("abandoned", "invalid numbers")
    }
    again = shop.jobq("dlq", "abandon", first, "--note", "twice", "--yes")
    assert again.returncode == 1
    assert f"{first}  refused: already abandoned" in again.stdout


def test_abandon_all_by_filter_and_the_note_is_required(shop: Shop) -> None:
    missing = shop.jobq("dlq", "abandon", "--all", "--tenant", "initech", "--yes")
    assert missing.returncode == 2
    assert "Missing option '--note'" in one_error_line(missing)
    data = shop.json("dlq", "abandon", "--all", "--tenant", "initech", "--resolution", "pending_recovery",
                     "--note", "disk replaced", "--yes")  # fmt: skip
    assert (data["matched"], data["abandoned"]) == (1, 1)
    assert shop.json("stats")["dlq"]["recovery"]["abandoned"] == 1


def test_purge_deletes_only_what_is_older_than_asked_after_a_yes(shop: Shop) -> None:
    before = shop.snapshot()
    declined = shop.jobq("dlq", "purge", input="n\n")
    assert declined.returncode == 1
    assert "2 dead letters match." in declined.stdout
    assert shop.snapshot() == before
    dry = shop.json("dlq", "purge", "--older-than", f"{OLD_DAYS + 1}d", "--dry-run")
    assert dry == {"matched": 1, "dry_run": True, "purged": 0}
    done = shop.jobq("dlq", "purge", "--yes")  # 30 days by default
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Purged 2 dead letters."
    assert shop.json("stats")["dlq"]["total_failed"] == 7


def test_purge_by_filter_and_age(shop: Shop) -> None:
    data = shop.json("dlq", "purge", "--older-than", "0s", "--tenant", "globex", "--yes")
    assert data == {"matched": 2, "dry_run": False, "purged": 2}
    assert not shop.letters(tenant="globex")


@pytest.mark.parametrize(("value", "message"), [("30x", "'30x' is not a duration"), ("30", "'30' needs a unit")])
def test_purge_refuses_bad_durations_and_changes_nothing(shop: Shop, value: str, message: str) -> None:
    before = shop.snapshot()
    result = shop.jobq("dlq", "purge", "--older-than", value, "--yes")
    assert result.returncode == 2
    assert message in one_error_line(result)
    assert shop.snapshot() == before


def test_clear_counts_asks_and_deletes(shop: Shop) -> None:
    before = shop.snapshot()
    declined = shop.jobq("clear", "--status", "succeeded,dead", input="n\n")
    assert declined.returncode == 1
    assert "7 jobs match." in declined.stdout
    assert shop.snapshot() == before
    assert shop.json("clear", "--status", "queued", "--dry-run") == {"matched": 1, "dry_run": True, "deleted": 0}
    done = shop.jobq("clear", "--status", "succeeded", "--status", "dead", "--yes")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "Deleted 7 jobs."
    assert [job["status"] for job in shop.json("jobs", "list")["jobs"]] == ["queued"]
    assert shop.json("stats")["dlq"]["total_failed"] == 9  # dead letters stay in the DLQ


def test_clear_older_than_counts_only_old_jobs(shop: Shop) -> None:
    result = shop.jobq("clear", "--status", "succeeded", "--older-than", "1h", "--yes")
    assert (result.returncode, result.stdout.strip()) == (0, "0 jobs match.")
    assert json.loads(shop.jobq("--json", "clear", "-s", "succeeded", "--older-than", "0s", "--yes").stdout) == {
        "matched": 1, "dry_run": False, "deleted": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [((), "give at least one of succeeded, dead, queued"), (("--status", "running"), "running: choose among")],
)
def test_clear_refuses_missing_or_wrong_states(shop: Shop, args: tuple[str, ...], message: str) -> None:
    result = shop.jobq("clear", *args, "--yes")
    assert result.returncode == 2
    assert message in one_error_line(result)


def test_the_alias_reads_the_settings_of_the_command_it_names(shop: Shop) -> None:
    (letter,) = ids(shop, "--task", "greet")
    result = shop.jobq("dlq", "retry", "--all", "--task", "greet", env={"JOBQ_DLQ_REPLAY_YES": "1"})  # no answer
    assert result.returncode == 0, result.stderr
    assert shop.letter(letter).resolution == "replayed"


def test_an_interrupted_replay_stops_and_reports_what_it_did(shop: Shop) -> None:
    command = [JOBQ, "dlq", "replay", "--all", "--rate", "5", "--yes"]
    process = subprocess.Popen(
        command, cwd=shop.folder, env={**os.environ, "JOBQ_URL": shop.url}, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not shop.letters(resolution="replayed") and time.monotonic() < deadline:
        time.sleep(0.05)  # wait for the first replay; the other eight take 1.6 s more at 5 per second
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    done = [line.split()[0] for line in out.splitlines() if "  replayed as " in line]
    assert 0 < len(done) < 9
    assert f"Replayed {len(done)} of 9 dead letters; interrupted after {len(done)}" in out
    assert {letter.id for letter in shop.letters(resolution="replayed")} == set(done)
    with shop.app() as app:
        (redrive,) = app.dlq.list_redrives()
    assert (redrive.state, redrive.replayed) == ("cancelled", len(done))  # Ctrl-C cancels the redrive
    assert out.splitlines()[-1] == (
        f"Redrive {redrive.id} cancelled: {len(done)} replayed, 0 skipped of 9 matched; "
        f"resume with `jobq dlq redrives resume {redrive.id}`."
    )
