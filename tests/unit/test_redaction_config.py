"""Building the redactor the CLI and ``jobq serve`` use: an app's redactor extended by ``[tool.jobq.redact]``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from jobq.cli import cli
from jobq.cli.config import ConfigError, default_map
from jobq.job import AttemptError, Job, JobId
from jobq.redact import REDACTED, Redactor, ValuePattern


def test_extended_adds_to_what_the_redactor_already_hides() -> None:
    own = Redactor(keys=["customer_ref"], values=["email"], allow=["to"])
    wider = own.extended({"keys": ["^body$"], "values": [r"ORD-\d+"], "allow": ["phone_country"]})
    assert wider.keys == ("customer_ref", "^body$") and wider.allow == ("to", "phone_country")
    assert wider.values == ("email", ValuePattern(r"ORD-\d+"))
    payload = {"customer_ref": "C1", "body": "x", "to": "+15550001111", "note": "ORD-1 kim@example.com"}
    assert wider.payload(payload) == {
        "customer_ref": REDACTED, "body": REDACTED, "to": "+15550001111", "note": f"{REDACTED} [redacted email]",
    }  # fmt: skip


def test_extended_keeps_enabled_unless_the_table_says_and_from_dict_extends_the_defaults() -> None:
    assert Redactor.none().extended({"keys": ["x"]}).enabled is False
    assert Redactor.none().extended({"enabled": True}).enabled is True
    assert Redactor().extended({}) == Redactor() == Redactor.from_dict({})


def test_job_redacts_payload_and_error_history_and_a_disabled_redactor_changes_nothing() -> None:
    error = AttemptError(1, datetime.now(UTC), "ValueError", "bad +15550001111", 'raise ValueError("+15550001111")')
    job = Job(JobId("j"), "sms.send", "default", "dead", {"args": [], "kwargs": {"phone": "+1"}}, 1, 3, errors=(error,))
    shown = Redactor().job(job)
    assert shown.payload == {"args": [], "kwargs": {"phone": REDACTED}}
    assert (shown.errors[0].message, shown.errors[0].traceback) == (
        "bad [redacted phone]", 'raise ValueError("[redacted phone]")',
    )  # fmt: skip
    assert job.errors[0].message == "bad +15550001111"  # a copy: the original is untouched
    assert Redactor.none().job(job) is job


def test_the_configuration_file_keeps_the_redact_table_for_the_group() -> None:
    found = default_map(cli, {"url": "sqlite:///x.db", "redact": {"keys": ["^body$"]}}, where="jobq.toml")
    assert found["redact"] == {"keys": ["^body$"]}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"redact": {"keys": ["("]}}, "jobq.toml [redact]: redact: '(' is not a valid regular expression"),
        ({"redact": {"allowed": ["to"]}}, "unknown setting 'allowed'"),
        ({"redact": "on"}, "jobq.toml: [redact] must be a table"),
        ({"dlq": {"redact": {"keys": ["x"]}}}, "jobq.toml [dlq]: 'redact' is not an option"),
    ],
)
def test_a_bad_redact_table_is_a_configuration_error(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        default_map(cli, settings, where="jobq.toml")
