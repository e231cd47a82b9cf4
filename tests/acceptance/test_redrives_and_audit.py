"""``jobq dlq redrives`` (bulk replays kept as records) and ``jobq dlq audit`` (who changed what, with ``--by``)."""

from __future__ import annotations

import getpass
import re

import pytest

from jobq.dlq import ReplayResult

from .conftest import Shop, one_error_line


def test_a_bulk_replay_is_a_redrive_whose_outcome_is_kept(shop: Shop) -> None:
    result = shop.jobq("dlq", "replay", "--all", "--class", "unknown", "--by", "alice", "--yes")
    assert result.returncode == 0, result.stderr
    started = re.search(r"^Redrive (\S+) started: 3 dead letters match;", result.stdout, re.MULTILINE)
    assert started, result.stdout
    redrive_id = started.group(1)
    assert result.stdout.splitlines()[-1] == f"Redrive {redrive_id} finished: 3 replayed, 0 skipped of 3 matched."
    worker = shop.jobq("--app", "shop:app", "worker", "--burst", env={"SHOP_FIXED": "1"})  # bob still fails
    assert worker.returncode == 0, worker.stderr

    (listed,) = shop.json("dlq", "redrives", "list")["redrives"]
    assert {key: listed[key] for key in ("id", "state", "started_by", "matched", "replayed", "skipped")} == {
        "id": redrive_id, "state": "finished", "started_by": "alice", "matched": 3, "replayed": 3, "skipped": 0,
    }  # fmt: skip
    template = shop.letters(search="template")[0].fingerprint
    bob = shop.letters(task="greet")[0].fingerprint
    outcome = {found["fingerprint"]: found for found in shop.json("dlq", "redrives", "show", redrive_id)["outcome"]}
    assert outcome[template] == {
        "fingerprint": template, "replayed": 2, "succeeded": 2, "died_again": 0, "pending": 0, "unknown": 0,
        "died_with": {},
    }  # fmt: skip
    assert (outcome[bob]["replayed"], outcome[bob]["died_again"], outcome[bob]["died_with"]) == (1, 1, {bob: 1})

    shown = shop.jobq("dlq", "redrives", "show", redrive_id)
    assert "Of 3 replayed: 2 succeeded, 1 died again, 0 pending, 0 unknown." in shown.stdout
    table = shop.jobq("dlq", "redrives", "list").stdout
    for words in (redrive_id, "finished", "alice", "--class unknown", "1 redrive shown"):
        assert words in table, words


def test_a_redrive_left_running_is_cancelled_then_resumed_to_its_end(shop: Shop) -> None:
    def broken(result: ReplayResult) -> None:
        raise RuntimeError("the caller's progress display broke")

    with shop.app() as app:
        with pytest.raises(RuntimeError):  # an error other than Ctrl-C leaves the redrive running, as a crash
            app.dlq.replay_many(tenant="acme", by="carol", progress=broken)
        (redrive,) = app.dlq.list_redrives()
    assert (redrive.state, redrive.replayed, redrive.matched) == ("running", 1, 3)

    cancelled = shop.jobq("dlq", "redrives", "cancel", redrive.id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"resume with `jobq dlq redrives resume {redrive.id}`" in cancelled.stdout
    again = shop.jobq("dlq", "redrives", "cancel", redrive.id)
    assert one_error_line(again) == f"Error: redrive {redrive.id} is not running (it is cancelled)"
    assert again.returncode == 1

    resumed = shop.jobq("dlq", "redrives", "resume", redrive.id, "--yes", "--by", "dave")
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines()[-1] == f"Redrive {redrive.id} finished: 3 replayed, 0 skipped of 3 matched."
    letters = shop.letters(tenant="acme")
    assert {letter.resolution for letter in letters} == {"replayed"}
    with shop.app() as app:
        assert sorted(app.dlq.audit_trail(letter.id)[0].by or "" for letter in letters) == ["carol", "dave", "dave"]

    finished = shop.jobq("dlq", "redrives", "resume", redrive.id, "--yes")
    assert one_error_line(finished) == f"Error: redrive {redrive.id} is finished: nothing is left to resume"
    assert finished.returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("redrives", "show", "01NOPE"), "no redrive 01NOPE"),
        (("redrives", "cancel", "01NOPE"), "no redrive 01NOPE"),
        (("redrives", "resume", "01NOPE", "--yes"), "no redrive 01NOPE"),
        (("audit", "01NOPE"), "no dead letter 01NOPE"),
    ],
)
def test_unknown_ids_are_one_line(shop: Shop, args: tuple[str, ...], message: str) -> None:
    result = shop.jobq("dlq", *args)
    assert (result.returncode, one_error_line(result)) == (1, f"Error: {message}")


def test_the_audit_trail_says_who_replayed_abandoned_and_edited(shop: Shop) -> None:
    first, second = (letter.id for letter in shop.letters(error_class="user_error"))
    assert shop.jobq("dlq", "replay", first, "--by", "alice", "--yes").returncode == 0
    abandoned = shop.jobq("dlq", "abandon", second, "--note", "call +15550002222", "--yes", env={"JOBQ_BY": "bob"})
    assert abandoned.returncode == 0, abandoned.stderr
    with shop.app() as app:  # edit then replay: the CLI has no command for it, the dashboard and Python do
        app.dlq.replay(first, force=True, payload={"kwargs": {"to": "+15551230001", "body": "hi"}}, by="carol")

    trail = shop.jobq("dlq", "audit", first)
    assert trail.returncode == 0, trail.stderr
    assert re.search(r"replayed\s+alice\s", trail.stdout) and re.search(r"replayed\s+carol\s", trail.stdout)
    assert "forced, payload edited" in trail.stdout and "Edited replay" in trail.stdout
    assert "+1555" not in trail.stdout  # both payloads redacted, as everywhere
    raw = shop.jobq("dlq", "audit", first, "--no-redact").stdout
    assert shop.letter(first).payload["kwargs"]["to"] in raw and "+15551230001" in raw
    (entry,) = shop.json("dlq", "audit", second)["audit"]
    assert (entry["dead_letter_id"], entry["action"], entry["by"]) == (second, "abandoned", "bob")
    assert entry["detail"]["note"].startswith("call ") and "+1555" not in entry["detail"]["note"]

    inspected = shop.jobq("dlq", "inspect", first).stdout
    assert "Audit trail" in inspected and f"jobq dlq audit {first}" in inspected


def test_the_audit_log_keeps_purges_with_their_count_newest_first(shop: Shop) -> None:
    abandon = ("dlq", "abandon", "--all", "--tenant", "initech", "--resolution", "pending_recovery", "--note", "x")
    assert shop.jobq(*abandon, "--yes").returncode == 0
    purged = shop.jobq("dlq", "purge", "--older-than", "0s", "--search", "+15550001111", "--yes")  # by the OS user
    assert purged.returncode == 0, purged.stderr

    first = shop.json("dlq", "audit", "--limit", "1")
    (purge,) = first["audit"]
    assert (purge["action"], purge["dead_letter_id"], purge["by"]) == ("purged", None, getpass.getuser())
    assert purge["detail"]["count"] == 1 and set(purge["detail"]["filters"]) == {"search", "until"}
    assert "+1555" not in purge["detail"]["filters"]["search"]  # an operator's search for a number is PII too
    rest = shop.json("dlq", "audit", "--limit", "1", "--cursor", first["next_cursor"])
    assert [entry["action"] for entry in rest["audit"]] == ["abandoned"] and rest["next_cursor"] is None
    table = shop.jobq("dlq", "audit").stdout
    assert "1 dead letter deleted (--until " in table and " --search " in table and "2 changes shown" in table
    assert "+1555" not in table
