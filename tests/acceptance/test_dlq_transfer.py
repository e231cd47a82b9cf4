"""``jobq dlq export`` and ``jobq dlq import``: moving dead letters out and back in."""

from __future__ import annotations

import csv
import io
import json

from .conftest import Shop, one_error_line


def test_export_json_lines_to_stdout_carries_everything(shop: Shop) -> None:
    result = shop.jobq("dlq", "export", "--tenant", "globex")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2 and {row["tenant"] for row in rows} == {"globex"}
    assert {"payload", "errors", "error_traceback", "fingerprint", "error_class"} <= set(rows[0])


def test_export_csv_to_a_file(shop: Shop) -> None:
    target = shop.folder / "failures.csv"
    result = shop.jobq("dlq", "export", "--format", "csv", "--class", "user_error", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Exported 2 dead letters to {target}."
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["error_class"] for row in rows] == ["user_error", "user_error"]
    assert [p.name for p in shop.folder.iterdir() if p.name.endswith(".partial")] == []


def test_an_export_that_fails_leaves_no_file(shop: Shop) -> None:
    target = shop.folder / "missing-folder" / "out.jsonl"
    result = shop.jobq("dlq", "export", "-o", str(target))
    assert result.returncode == 1
    assert "No such file or directory" in one_error_line(result)
    assert not target.parent.exists()


def test_import_moves_dead_letters_into_a_new_database_and_skips_known_ones(shop: Shop) -> None:
    empty_shop = Shop(shop.folder, shop.folder / "moved.db")
    exported = shop.folder / "all.jsonl"
    assert shop.jobq("dlq", "export", "--no-redact", "-o", str(exported)).returncode == 0
    first = empty_shop.jobq("dlq", "import", str(exported))
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "Imported 9 dead letters (0 already there, skipped)."
    assert empty_shop.json("stats")["dlq"] == shop.json("stats")["dlq"]
    everything = ("dlq", "list", "--with-payload", "--no-redact")
    assert empty_shop.json(*everything) == shop.json(*everything)  # a faithful copy, PII and all
    piped = empty_shop.jobq("--json", "dlq", "import", "-", input=exported.read_text())
    assert json.loads(piped.stdout) == {"imported": 0, "skipped": 9}


def test_import_of_a_malformed_file_stores_nothing(shop: Shop) -> None:
    before = shop.snapshot()
    good = shop.jobq("dlq", "export", "--no-redact", "--tenant", "initech").stdout.replace("00OLD", "00NEW")
    lines = good.splitlines()
    result = shop.jobq("dlq", "import", "-", input="\n".join([lines[0], "{not json", *lines[1:]]))
    assert result.returncode == 1
    assert one_error_line(result).startswith("Error: line 2: ")
    missing = shop.jobq("dlq", "import", "-", input='{"id": "x"}\n')
    assert "missing the field" in one_error_line(missing)
    assert shop.snapshot() == before


def test_import_of_a_missing_file_is_a_usage_error(shop: Shop) -> None:
    result = shop.jobq("dlq", "import", "nowhere.jsonl")
    assert result.returncode == 2
    assert "nowhere.jsonl" in one_error_line(result)
