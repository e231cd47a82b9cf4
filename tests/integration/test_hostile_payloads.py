"""Hostile payloads: refused with a PayloadError naming the value on every way in, and a stored payload that
breaks the rule (an older version, a row written by hand) read back degraded with a note, never raising."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import jobq
from jobq.errors import PayloadError
from jobq.job import DeadLetterId
from jobq.payload import MAX_DEPTH

from ..payload_values import nested, nested_text

SIXTEEN_MIB = "x" * (16 * 1024 * 1024)


HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    "lone surrogate": ({"v": "\ud800"}, r"kwargs\['v'\] holds a lone surrogate"),
    "lone surrogate key": ({"\udcff": 1}, r"kwargs\['\\udcff'\] holds a lone surrogate"),
    "NUL": ({"to": ["a", "b\x00c"]}, r"kwargs\['to'\]\[1\] holds a NUL character"),
    "NaN": ({"x": float("nan")}, r"kwargs\['x'\] is nan \(float\); JSON has no NaN"),
    "infinity": ({"x": float("inf")}, r"kwargs\['x'\] is inf"),
    "minus infinity": ({"x": -float("inf")}, r"kwargs\['x'\] is -inf"),
    "1e999": ({"x": float("1e999")}, r"kwargs\['x'\] is inf"),
    "set": ({"x": {1, 2}}, r"kwargs\['x'\] is a set"),
    "bytes": ({"x": b"raw"}, r"kwargs\['x'\] is a bytes"),
    "depth 10**5": ({"x": nested(100_000)}, r"kwargs\['x'\].*nested too deeply"),
    "one level too deep": ({"x": nested(MAX_DEPTH + 1)}, r"nested too deeply .*64 lists and dicts"),
    "16 MiB": ({"x": SIXTEEN_MIB}, r"payload is too large: 16,777,\d+ bytes of JSON, more than the limit of"),
    "int of 5000 digits": ({"x": 10**5000}, r"kwargs\['x'\] is an int of more than 4300 digits"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_enqueue_refuses_a_hostile_value_with_a_payload_error_naming_it(app: jobq.App, name: str) -> None:
    kwargs, message = HOSTILE[name]

    @app.task(name="hostile.take")
    def take(**values: Any) -> None: ...

    with pytest.raises(PayloadError, match=message) as info:
        take.enqueue(**kwargs)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400
    with pytest.raises(PayloadError, match=message):
        app.enqueue_many("hostile.take", [{"ok": 1}, kwargs])
    assert app.list_jobs() == []


def test_a_payload_nested_exactly_to_the_limit_is_stored_and_every_reader_shows_it(app: jobq.App) -> None:
    deep = nested(MAX_DEPTH)
    job_id = app.enqueue("hostile.take", {"x": deep})
    job = app.get_job(job_id)
    assert job is not None and job.payload == {"args": [], "kwargs": {"x": deep}} and job.payload_note is None
    assert app.list_jobs()[0].payload == job.payload
    assert app.redactor.job(job).payload == job.payload


def letter_line(payload_json: str, dead_letter_id: str = "dl-hostile") -> str:
    fields = {
        "id": dead_letter_id, "job_id": "job-1", "task": "hostile.take", "queue": "default", "attempts": 1,
        "error_type": "RuntimeError", "error_message": "boom", "error_class": "unknown", "fingerprint": "f",
        "failed_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    return json.dumps(fields)[:-1] + f', "payload": {payload_json}}}'


IMPORT_HOSTILE = {
    "NaN": ('{"args": [NaN], "kwargs": {}}', r"line 1: payload is not JSON: args\[0\] is nan"),
    "1e999": ('{"args": [], "kwargs": {"x": 1e999}}', r"line 1: payload is not JSON: kwargs\['x'\] is inf"),
    "lone surrogate": ('{"args": ["\\ud800"], "kwargs": {}}', r"args\[0\] holds a lone surrogate"),
    "NUL": ('{"args": ["a\\u0000"], "kwargs": {}}', r"args\[0\] holds a NUL character"),
    "depth 800": (f'{{"args": [{nested_text(800)}], "kwargs": {{}}}}', r"args\[0\].*nested too deeply"),
    "depth 10**5": (f'{{"args": [{nested_text(100_000)}], "kwargs": {{}}}}', r"line 1: nested too deeply"),
    "16 MiB": (f'{{"args": ["{SIXTEEN_MIB}"], "kwargs": {{}}}}', r"payload is too large"),
    "not an object": ("[1, 2]", r"it must be an object"),
    "unexpected key": ('{"args": [], "kwargs": {}, "pickle": "gASV"}', r"unexpected key 'pickle'"),
}


@pytest.mark.parametrize("name", IMPORT_HOSTILE)
def test_import_holds_payloads_to_the_same_rule_and_stores_nothing_on_a_bad_line(app: jobq.App, name: str) -> None:
    payload, message = IMPORT_HOSTILE[name]
    good = letter_line('{"args": [1], "kwargs": {}}', "dl-good")
    with pytest.raises(PayloadError, match=message):
        app.dlq.import_(io.StringIO(letter_line(payload) + "\n" + good + "\n"))
    assert list(app.dlq.list()) == []


@pytest.mark.parametrize("name", ["NaN", "1e999", "NUL", "depth 10**5"])
def test_replay_with_an_edited_payload_holds_it_to_the_same_rule(app: jobq.App, name: str) -> None:
    assert app.dlq.import_(io.StringIO(letter_line('{"args": [1], "kwargs": {}}') + "\n")) == 1
    kwargs, message = HOSTILE[name]
    with pytest.raises(PayloadError, match=message):
        app.dlq.replay(DeadLetterId("dl-hostile"), payload={"args": [], "kwargs": kwargs})
    with pytest.raises(PayloadError, match="unexpected key 'extra'"):
        app.dlq.replay(DeadLetterId("dl-hostile"), payload={"args": [], "kwargs": {}, "extra": 1})
    assert app.list_jobs() == []


# -- stored payloads that break the rule: written by hand, straight into the database -------------------------


@pytest.fixture(params=["sqlite-file", "postgres"])
def raw(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[jobq.App, Any]]:
    """An app, and a function that overwrites a job's and its dead letter's stored payload text."""
    url = (
        f"sqlite:///{tmp_path / 'jobq.db'}"
        if request.param == "sqlite-file"
        else request.getfixturevalue("postgres_url")
    )
    with jobq.App(url) as app:
        app.backend.migrate()

        def overwrite(job_id: str, text: str) -> None:
            if url.startswith("sqlite"):
                with sqlite3.connect(tmp_path / "jobq.db") as conn:
                    conn.execute("UPDATE jobs SET payload = ? WHERE id = ?", (text, job_id))
                    conn.execute("UPDATE dead_letters SET payload = ? WHERE job_id = ?", (text, job_id))
                return
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("UPDATE jobs SET payload = %s::json WHERE id = %s", (text, job_id))
                conn.execute("UPDATE dead_letters SET payload = %s::json WHERE job_id = %s", (text, job_id))

        yield app, overwrite


STORED = {
    "nested 495 deep (an older version)": (
        f'{{"args": [], "kwargs": {{"x": {nested_text(495)}}}}}',
        "nested deeper than 64 lists and dicts",
    ),
    "nested 2000 deep": (f'{{"args": [{nested_text(2000)}], "kwargs": {{}}}}', "nested"),
    "1e999": ('{"args": [1e999], "kwargs": {}}', "it holds inf"),
    "50 MiB": ('{"args": ["' + "y" * (50 * 1024 * 1024) + '"], "kwargs": {}}', "more than the 1,048,576-byte limit"),
    "wrong shape": ('{"args": {}, "kwargs": {}}', "'args' must be a JSON array"),
}
SQLITE_ONLY = {  # PostgreSQL's json type refuses these on the way in
    "nested 100,000 deep": (nested_text(100_000), "nested too deeply to decode"),
    "invalid JSON": ('{"args": [1,', "not valid JSON"),
    "NaN": ('{"args": [NaN], "kwargs": {}}', "NaN is not JSON"),
}


@pytest.mark.parametrize("name", STORED)
def test_a_stored_payload_no_reader_could_show_reads_back_empty_with_a_note(
    raw: tuple[jobq.App, Any], name: str
) -> None:
    shows_degraded(*raw, *STORED[name])


@pytest.mark.parametrize("raw", ["sqlite-file"], indirect=True)  # PostgreSQL's json type refuses them
@pytest.mark.parametrize("name", SQLITE_ONLY)
def test_stored_text_that_is_not_json_or_too_deep_to_decode_reads_back_empty_with_a_note(
    raw: tuple[jobq.App, Any], name: str
) -> None:
    shows_degraded(*raw, *SQLITE_ONLY[name])


def shows_degraded(app: jobq.App, overwrite: Any, text: str, why: str) -> None:
    """Every read of a job and its dead letter whose stored payload is ``text``: empty, with a note saying ``why``."""
    job_id = app.enqueue("hostile.take", {"a": 1})
    line = letter_line('{"args": [], "kwargs": {"a": 1}}').replace('"job-1"', f'"{job_id}"')
    app.dlq.import_(io.StringIO(line + "\n"))
    overwrite(job_id, text)

    job = app.get_job(job_id)
    assert job is not None and job.payload == {"args": [], "kwargs": {}}
    assert job.payload_note is not None and job.payload_note.startswith("payload could not be shown: ")
    assert why in job.payload_note and "\n" not in job.payload_note and len(job.payload_note) < 1000
    assert app.list_jobs()[0].payload_note == job.payload_note
    letter = app.dlq.get(DeadLetterId("dl-hostile"))
    assert letter is not None and letter.payload_note == job.payload_note
    assert [item.payload_note for item in app.dlq.list(with_payload=True)] == [job.payload_note]
    assert app.redactor.dead_letter(letter).payload_note == job.payload_note.split("; its stored text")[0] + (
        "; its stored text begins: [redacted]" if "; its stored text" in job.payload_note else ""
    )
    out = io.StringIO()
    assert app.dlq.export(out) == 1
    assert json.loads(out.getvalue())["payload_note"] == job.payload_note
    with pytest.raises(PayloadError, match="payload was exported degraded"):
        app.dlq.import_(io.StringIO(out.getvalue().replace("dl-hostile", "dl-again")))
    with pytest.raises(PayloadError, match="replay it with an edited payload"):
        app.dlq.replay(DeadLetterId("dl-hostile"))
    assert app.get_job(app.dlq.replay(DeadLetterId("dl-hostile"), payload={"args": [2], "kwargs": {}})) is not None


@pytest.mark.parametrize("raw", ["sqlite-file"], indirect=True)  # PostgreSQL's json type refuses them
def test_a_worker_that_claims_a_payload_it_cannot_decode_records_a_payload_error_and_goes_on(
    raw: tuple[jobq.App, Any],
) -> None:
    app, overwrite = raw
    took: list[int] = []

    @app.task(name="decode.take")
    def take(a: int) -> None:
        took.append(a)

    broken, fine = take.enqueue(a=1), take.enqueue(a=2)
    overwrite(broken, nested_text(100_000))
    app.run_worker(burst=True, install_signal_handlers=False)

    assert took == [2]
    [letter] = app.dlq.list()
    assert (letter.job_id, letter.error_type) == (broken, "jobq.PayloadError")
    assert "nested too deeply to decode" in letter.error_message
    job = app.get_job(fine)
    assert job is not None and job.status == "succeeded"


def test_a_bulk_replay_passes_over_a_letter_whose_payload_cannot_be_read_and_replays_the_rest(
    raw: tuple[jobq.App, Any],
) -> None:
    app, overwrite = raw
    job_ids = [app.enqueue("hostile.take", {"n": n}) for n in range(3)]
    lines = [
        letter_line('{"args": [], "kwargs": {"a": 1}}', f"dl-{n}").replace('"job-1"', f'"{job_id}"')
        for n, job_id in enumerate(job_ids)
    ]
    app.dlq.import_(io.StringIO("\n".join(lines) + "\n"))
    overwrite(job_ids[1], STORED["wrong shape"][0])

    report = app.dlq.replay_many()
    outcomes = {result.dead_letter_id: result.outcome for result in report.results}
    assert outcomes == {"dl-0": "replayed", "dl-1": "unreadable_payload", "dl-2": "replayed"}
    assert report.redrive_id is not None and report.state == "finished"
    redrive = app.dlq.get_redrive(report.redrive_id)
    assert redrive is not None and (redrive.replayed, redrive.skipped) == (2, 1)
    letter = app.dlq.get(DeadLetterId("dl-1"))
    assert letter is not None and letter.resolution == "open"

    by_ids = app.dlq.replay_ids([DeadLetterId("dl-1"), DeadLetterId("dl-0"), DeadLetterId("dl-gone")])
    assert [(result.dead_letter_id, result.outcome) for result in by_ids.results] == [
        ("dl-1", "unreadable_payload"), ("dl-0", "already_replayed"), ("dl-gone", "not_found"),
    ]  # fmt: skip
    assert (by_ids.matched, by_ids.changed) == (2, 0)
    assert app.get_job(app.dlq.replay(DeadLetterId("dl-1"), payload={"args": [], "kwargs": {"a": 2}})) is not None
