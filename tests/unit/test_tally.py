"""Counters and histograms kept by workers."""

from __future__ import annotations

import math

from jobq.tally import COUNTER, SUM, Tally, read_back


def test_counts_and_observations_add_up_and_take_empties_the_tally() -> None:
    tally = Tally()
    tally.count("processed", "sms")
    tally.count("processed", "sms")
    tally.observe("job_duration_seconds", "sms", 0.3)
    tally.observe("job_duration_seconds", "sms", 7.0)
    values = tally.take()
    assert values[("processed", "sms", COUNTER)] == 2
    assert values[("job_duration_seconds", "sms", 0.5)] == 1
    assert values[("job_duration_seconds", "sms", 10.0)] == 1
    assert values[("job_duration_seconds", "sms", SUM)] == 7.3
    assert tally.take() == {}


def test_negative_durations_from_clock_steps_count_as_zero() -> None:
    tally = Tally()
    tally.observe("queue_wait_seconds", "q", -2.0)
    assert tally.take()[("queue_wait_seconds", "q", 0.005)] == 1


def test_read_back_makes_cumulative_histograms() -> None:
    rows = [
        ("processed", "q", COUNTER, 3.0),
        ("job_duration_seconds", "q", 0.01, 2.0),
        ("job_duration_seconds", "q", 1.0, 1.0),
        ("job_duration_seconds", "q", SUM, 0.9),
    ]
    metrics = read_back(rows)
    assert metrics.counters == {("processed", "q"): 3.0}
    histogram = metrics.histograms[("job_duration_seconds", "q")]
    assert dict(histogram.buckets)[0.005] == 0 and dict(histogram.buckets)[0.01] == 2
    assert dict(histogram.buckets)[1.0] == 3 and dict(histogram.buckets)[math.inf] == 3
    assert (histogram.sum, histogram.count) == (0.9, 3)
