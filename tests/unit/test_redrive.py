"""A redrive's outcome, summed up from job states by fingerprint."""

from __future__ import annotations

from jobq.redrive import RedriveOutcome, outcomes


def test_outcomes_sum_job_states_per_fingerprint_largest_first() -> None:
    rows = [
        ("small", "succeeded", None, 1),
        ("big", "succeeded", None, 2),
        ("big", "queued", None, 1),
        ("big", "running", None, 1),
        ("big", "dead", "f-new", 2),
        ("big", None, "f-other", 1),  # its job was cleared, its new dead letter says how it ended
        ("big", None, None, 3),  # cleared, no trace left
        ("big", "dead", None, 1),  # died, its new letter purged since
    ]
    assert outcomes(rows) == [
        RedriveOutcome(
            "big", replayed=11, succeeded=2, died_again=4, pending=2, unknown=3, died_with={"f-new": 2, "f-other": 1}
        ),
        RedriveOutcome("small", replayed=1, succeeded=1),
    ]


def test_no_replays_no_outcome() -> None:
    assert outcomes([]) == []
