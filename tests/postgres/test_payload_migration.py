"""Migration 0007: payloads (and the audit's edited payloads) move from jsonb to json, every row kept."""

from __future__ import annotations

import psycopg

import jobq
from jobq.backends.postgres.migrate import VERSION_TABLE
from jobq.backends.queries import load_migrations
from jobq.job import DeadLetterId

PAYLOAD = '{"args": [1.5, "é"], "kwargs": {"to": "+15550100", "n": null}}'


def at_version_6(url: str) -> None:
    """A schema as jobq left it before 0007, holding a job, its dead letter and an edited replay's audit row."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(VERSION_TABLE)
        for number, name, script in load_migrations("jobq.backends.postgres"):
            if number <= 6:
                conn.execute(script.encode())
                conn.execute("INSERT INTO jobq_schema_version (version, name) VALUES (%s, %s)", (number, name))
        conn.execute(
            "INSERT INTO jobs (id, task, queue, status, payload, run_at, created_at)"
            " VALUES ('job-1', 'sms.send', 'default', 'dead', %s::jsonb, 0, 0)",
            (PAYLOAD,),
        )
        conn.execute(
            "INSERT INTO dead_letters (id, job_id, task, queue, payload, attempts, max_attempts, errors, error_type,"
            " error_message, error_traceback, error_class, fingerprint, failed_at)"
            " VALUES ('dl-1', 'job-1', 'sms.send', 'default', %s::jsonb, 1, 1, '[]', 'E', 'm', '', 'unknown', 'f', 0)",
            (PAYLOAD,),
        )
        conn.execute(
            "INSERT INTO dlq_audit (id, dead_letter_id, at, action, detail) VALUES ('a-1', 'dl-1', 0, 'replayed', %s)",
            ('{"job_id": "job-2", "original_payload": ' + PAYLOAD + ', "payload": ' + PAYLOAD + "}",),
        )


def column_types(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND column_name IN ('payload', 'detail')"
        ).fetchall()
    return dict(rows)


def test_migration_turns_payload_columns_into_json_and_keeps_every_row(postgres_url: str) -> None:
    at_version_6(postgres_url)
    assert column_types(postgres_url)["jobs.payload"] == "jsonb"
    with jobq.App(postgres_url) as app:
        assert app.backend.migrate() >= 7
        assert column_types(postgres_url) == {
            "jobs.payload": "json", "dead_letters.payload": "json", "dlq_audit.detail": "json",
        }  # fmt: skip
        expected = {"args": [1.5, "é"], "kwargs": {"to": "+15550100", "n": None}}
        job, letter = app.get_job("job-1"), app.dlq.get(DeadLetterId("dl-1"))
        assert job is not None and job.payload == expected and job.payload_note is None
        assert letter is not None and letter.payload == expected
        (entry,) = app.dlq.audit_trail(DeadLetterId("dl-1"))
        assert entry.detail["original_payload"] == entry.detail["payload"] == expected
        replayed = app.get_job(
            app.dlq.replay(DeadLetterId("dl-1"), payload={"args": [1e16, -0.0], "kwargs": {}}, force=True)
        )
        assert replayed is not None and replayed.payload == {"args": [1e16, -0.0], "kwargs": {}}
        assert repr(replayed.payload["args"]) == "[1e+16, -0.0]"
