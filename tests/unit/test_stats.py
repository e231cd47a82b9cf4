"""The stats shape and alert thresholds."""

from __future__ import annotations

from jobq.backends.contract import DeadLetterSummary
from jobq.stats import Thresholds, crossed, dead_letter_stats


def summary(**overrides: object) -> DeadLetterSummary:
    values: dict[str, object] = {
        "total": 42, "permanent": 38, "recent": 5, "avg_attempts": 2.8, "in_recovery": 12,
        "by_class": {"recoverable": 4, "user_error": 38},
        "by_resolution": {"open": 30, "pending_recovery": 8, "recovered": 3, "abandoned": 1}, "pruned": 7,
    }  # fmt: skip
    values.update(overrides)
    return DeadLetterSummary(**values)  # type: ignore[arg-type]


def test_dead_letter_stats_has_the_spec_shape() -> None:
    assert dead_letter_stats(summary()) == {
        "dlq": {
            "total_failed": 42, "permanent_failures": 38, "last_24h": 5, "avg_retries": 2.8, "pruned": 7,
            "recovery": {"total_in_recovery": 12, "pending_recovery": 8, "recovered": 3, "abandoned": 1},
        },
        "by_class": {"recoverable": 4, "user_error": 38, "system_error": 0, "unknown": 0},
    }  # fmt: skip


def test_default_thresholds_fire_only_when_exceeded() -> None:
    alerts = crossed(dead_letter_stats(summary()), Thresholds())
    assert [(a.name, a.value) for a in alerts] == [("avg_retries", 2.8), ("pending_recovery", 8)]
    assert str(alerts[0]) == "avg_retries is 2.8, above the threshold of 2.5"
    calm = dead_letter_stats(summary(recent=10, avg_attempts=2.5, by_resolution={"pending_recovery": 5}))
    assert crossed(calm, Thresholds()) == []


def test_thresholds_are_configurable() -> None:
    assert [
        a.name
        for a in crossed(dead_letter_stats(summary()), Thresholds(last_24h=4, avg_retries=3, pending_recovery=10))
    ] == ["last_24h"]


def test_new_fingerprints_make_one_alert_naming_them() -> None:
    from jobq.stats import new_fingerprint_alert

    assert new_fingerprint_alert([]) == []
    (alert,) = new_fingerprint_alert([("abc", 1.0, 3), ("def", 2.0, 1)])
    assert (alert.name, alert.value) == ("new_fingerprint", 2)
    assert str(alert) == "new_fingerprint is 2, above the threshold of 0: new failures abc (3), def (1)"
