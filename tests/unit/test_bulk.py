"""The core's bulk rules: which letters an action changes, and pacing."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from jobq.bulk import Action, BulkReport, BulkResult, Pacer, changes
from jobq.job import RESOLUTIONS, DeadLetter, DeadLetterId, JobId, Resolution


def letter(resolution: Resolution) -> DeadLetter:
    return DeadLetter(
        id=DeadLetterId("dl-1"), job_id=JobId("job-1"), task="t", queue="default", payload={"args": [], "kwargs": {}},
        attempts=1, max_attempts=1, error_type="E", error_message="boom", error_traceback="", error_class="unknown",
        fingerprint="f", failed_at=datetime(2026, 1, 1, tzinfo=UTC), resolution=resolution,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("action", "force", "changed"),
    [
        ("replay", False, {"open", "pending_recovery", "abandoned"}),
        ("replay", True, {"open", "pending_recovery", "abandoned", "replayed", "recovered"}),
        ("abandon", False, {"open", "pending_recovery"}),
        ("purge", False, {"open", "pending_recovery", "abandoned", "replayed", "recovered"}),
    ],
)
def test_an_action_changes_the_letters_its_rule_names(action: Action, force: bool, changed: set[str]) -> None:
    assert {name for name in RESOLUTIONS if changes(action, letter(name), force=force)} == changed


def test_a_report_counts_only_replayed_and_abandoned_letters_as_changed() -> None:
    report = BulkReport(matched=3, results=[
        BulkResult(DeadLetterId("a"), "replayed", JobId("j")), BulkResult(DeadLetterId("b"), "abandoned"),
        BulkResult(DeadLetterId("c"), "unreadable_payload"), BulkResult(DeadLetterId("d"), "not_found"),
    ])  # fmt: skip
    assert report.changed == 2


def test_a_pacer_spaces_steps_by_one_over_the_rate_and_lets_the_first_go_at_once() -> None:
    pacer = Pacer(20)
    started = time.monotonic()
    pacer.wait()
    assert time.monotonic() - started < 0.04
    pacer.wait()
    pacer.wait()
    assert time.monotonic() - started >= 0.1


def test_a_pacer_without_a_rate_never_waits() -> None:
    pacer = Pacer(None)
    started = time.monotonic()
    for _ in range(1000):
        pacer.wait()
    assert time.monotonic() - started < 0.5
