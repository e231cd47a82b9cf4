"""The payload rule through the real ``jobq``: enqueue and import refuse with one error line, and inspect shows a
stored payload that breaks the rule degraded, with a note."""

from __future__ import annotations

import json
import sqlite3

import pytest

from .conftest import Shop, one_error_line


def nested_text(depth: int) -> str:
    return "[" * depth + "0" + "]" * depth


ENQUEUED = {
    "NaN": ('{"x": NaN}', r"kwargs['x'] is nan (float); JSON has no NaN"),
    "1e999": ('{"x": [1e999]}', r"kwargs['x'][0] is inf (float)"),
    "lone surrogate": ('{"x": "\\ud800"}', "kwargs['x'] holds a lone surrogate"),
    "NUL": ('{"x": "a\\u0000"}', "kwargs['x'] holds a NUL character"),
    "nested 495 deep": (f'{{"x": {nested_text(495)}}}', "is nested too deeply"),
    "nested 50,000 deep (as deep as an argument can be)": (f'{{"x": {nested_text(50_000)}}}', "is nested too deeply"),
}


@pytest.mark.parametrize("name", ENQUEUED)
def test_enqueue_refuses_a_hostile_payload_with_one_error_line(empty_shop: Shop, name: str) -> None:
    kwargs, words = ENQUEUED[name]
    result = empty_shop.jobq("enqueue", "anything.at_all", "--kwargs", kwargs)
    assert result.returncode != 0
    assert words in one_error_line(result)


def test_dlq_import_refuses_a_line_nested_800_deep_and_stores_nothing(shop: Shop) -> None:
    before = shop.snapshot()
    export = shop.jobq("dlq", "export").stdout.splitlines()
    line = json.loads(export[0])
    bad = json.dumps({**line, "id": "dl-deep", "payload": {"args": [], "kwargs": {}}}).replace(
        '"args": []', f'"args": [{nested_text(800)}]'
    )
    result = shop.jobq("dlq", "import", "-", input=bad + "\n")
    assert result.returncode != 0
    assert "line 1: payload is not JSON: args[0]" in one_error_line(result)
    assert shop.snapshot() == before


def test_inspect_shows_a_stored_payload_beyond_the_rule_degraded_with_a_note(shop: Shop) -> None:
    letter = shop.letters()[0]
    with sqlite3.connect(shop.db) as conn:
        conn.execute("UPDATE dead_letters SET payload = ? WHERE id = ?", (nested_text(100_000), letter.id))
        conn.execute("UPDATE jobs SET payload = ? WHERE id = ?", ('{"args": [NaN]}', letter.job_id))
    for command in (["dlq", "inspect", letter.id], ["jobs", "inspect", letter.job_id]):
        result = shop.jobq(*command)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert "payload could not be shown" in result.stdout
        shown = shop.json(*command)
        assert shown["payload"] == {"args": [], "kwargs": {}} and shown["payload_note"].startswith("payload could not")
    export = shop.jobq("dlq", "export")
    assert export.returncode == 0 and "payload could not be shown" in export.stdout
