"""``jobq recover``: the interactive recovery menu, driven through its standard input."""

from __future__ import annotations

import csv
import re

from jobq.job import DeadLetterId

from .conftest import Shop


def row(out: str, number: int) -> str:
    """The id on row ``number`` of the first numbered list in ``out``."""
    match = re.search(rf"^{number}\s+(\S+)", out, re.MULTILINE)
    assert match, out
    return match.group(1)


def test_a_whole_session_lists_shows_replays_abandons_and_exports(shop: Shop) -> None:
    answers = [
        "1",  # list failures
        "4", "1",  # show the first one
        "5", "1 2", "y",  # replay the first two
        "6", "3", "no longer needed", "y",  # abandon the third, with a note
        "3",  # the recovery queue
        "2",  # stats
        "7", "all", "out.csv",  # export everything
        "q",
    ]  # fmt: skip
    result = shop.jobq("recover", input="\n".join(answers) + "\n", env={"JOBQ_BY": "ops"})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"jobq recover — {shop.url}\n7 open failures, 2 in the recovery queue.")
    first, second, third = row(out, 1), row(out, 2), row(out, 3)
    assert f"dead letter  {first}" in out and "Error history" in out and "Payload" in out
    assert "Replay 2 dead letters? [y/N]: y" in out
    for letter in (first, second):
        assert re.search(rf"^{letter}  replayed as \S+$", out, re.MULTILINE)
        assert shop.letter(letter).resolution == "replayed"
    assert f"{third}  abandoned" in out
    assert (shop.letter(third).resolution, shop.letter(third).note) == ("abandoned", "no longer needed")
    with shop.app() as app:
        assert [app.dlq.audit_trail(DeadLetterId(letter))[0].by for letter in (first, second, third)] == ["ops"] * 3
    assert re.search(r"^2\s+00OLD0+2\s", out, re.MULTILINE)  # the recovery queue lists both pending ones
    assert "Dead-letter queue" in out and "Queues" in out
    assert "Exported 9 dead letters to out.csv (PII redacted; `jobq recover --no-redact` exports as stored)." in out
    assert len(list(csv.DictReader((shop.folder / "out.csv").read_text().splitlines()))) == 9
    assert out.rstrip().endswith("Bye.")


def test_answering_no_changes_nothing(shop: Shop) -> None:
    before = shop.snapshot()
    result = shop.jobq("recover", input="1\n5\nall\nn\n6\n1\nnote\nn\nq\n")
    assert result.returncode == 0, result.stderr
    assert "Nothing was replayed." in result.stdout and "Nothing was abandoned." in result.stdout
    assert shop.snapshot() == before


def test_the_end_of_the_input_ends_the_session(shop: Shop) -> None:
    result = shop.jobq("recover", input="2\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("Bye.")


def test_unknown_choices_rows_and_ids_are_explained_and_the_session_goes_on(shop: Shop) -> None:
    before = shop.snapshot()
    answers = ["x", "5", "1", "1", "4", "01NOPE", "6", "2", "", "m", "q"]
    result = shop.jobq("recover", input="\n".join(answers) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Unknown choice 'x'." in out
    assert "No row 1 in the last list" in out  # nothing listed yet
    assert "No dead letter 01NOPE." in out
    assert "A note is needed: nothing was abandoned." in out
    assert out.count("  1  list failures") == 2  # the menu, shown again on `m`
    assert shop.snapshot() == before


def test_an_empty_recovery_queue_says_so(shop: Shop) -> None:
    shop.jobq("dlq", "abandon", "--all", "--resolution", "pending_recovery", "--note", "x", "--yes")
    result = shop.jobq("recover", input="3\nq\n")
    assert "The recovery queue is empty." in result.stdout
