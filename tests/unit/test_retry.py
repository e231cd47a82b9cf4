"""Backoff policies: attempt number → seconds to wait."""

from __future__ import annotations

import random
from typing import Any

import pytest

from jobq.retry import DEFAULT_BACKOFF, Backoff, Custom, Exponential, Fixed, as_backoff


def test_exponential_without_jitter_doubles_from_base_until_the_cap() -> None:
    backoff = Exponential(base=1.0, factor=2.0, cap=10.0, jitter=False)
    assert [backoff.delay(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_exponential_with_jitter_stays_between_zero_and_the_ceiling() -> None:
    backoff = Exponential(base=1.0, factor=2.0, cap=300.0, rng=random.Random(7))
    for attempt in range(1, 20):
        ceiling = backoff.ceiling(attempt)
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(0.0 <= delay <= ceiling for delay in delays)
    assert len({backoff.delay(10) for _ in range(20)}) > 1  # actually jittered


def test_exponential_with_a_seeded_rng_is_deterministic() -> None:
    first = Exponential(rng=random.Random(42))
    second = Exponential(rng=random.Random(42))
    assert [first.delay(n) for n in range(1, 10)] == [second.delay(n) for n in range(1, 10)]


def test_exponential_rng_is_left_out_of_equality_and_repr() -> None:
    assert Exponential(rng=random.Random(1)) == Exponential()
    assert "rng" not in repr(Exponential(rng=random.Random(1)))


@pytest.mark.parametrize("attempt", [1_000, 10**6, 10**400])
def test_exponential_huge_attempt_returns_the_cap_without_overflow(attempt: int) -> None:
    assert Exponential(cap=300.0, jitter=False).delay(attempt) == 300.0
    assert 0.0 <= Exponential(cap=300.0).delay(attempt) <= 300.0


def test_exponential_attempt_below_one_counts_as_the_first() -> None:
    backoff = Exponential(base=3.0, jitter=False)
    assert backoff.delay(0) == backoff.delay(-5) == 3.0


def test_exponential_with_factor_one_is_constant() -> None:
    assert Exponential(base=5.0, factor=1.0, jitter=False).delay(10**9) == 5.0


def test_exponential_with_zero_base_always_waits_zero() -> None:
    assert Exponential(base=0.0, jitter=False).delay(5) == 0.0


def test_exponential_cap_below_base_wins() -> None:
    assert Exponential(base=10.0, cap=2.0, jitter=False).delay(1) == 2.0
    assert Exponential(base=10.0, cap=0.0).delay(3) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [({"base": -1.0}, "base"), ({"cap": float("inf")}, "cap"), ({"factor": 0.5}, "factor")],
)
def test_exponential_refuses_nonsense_parameters(kwargs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Exponential(**kwargs)


def test_fixed_returns_the_same_delay_for_every_attempt() -> None:
    assert {Fixed(2.5).delay(n) for n in (1, 2, 50)} == {2.5}


def test_fixed_refuses_negative_seconds() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Fixed(-1.0)


def test_policies_satisfy_the_backoff_protocol() -> None:
    assert isinstance(Exponential(), Backoff)
    assert isinstance(Fixed(1.0), Backoff)
    assert isinstance(Custom(lambda n: 1.0), Backoff)


def test_as_backoff_none_is_the_default_exponential_policy() -> None:
    assert as_backoff(None) is DEFAULT_BACKOFF
    assert Exponential(base=1.0, factor=2.0, cap=300.0, jitter=True) == DEFAULT_BACKOFF


def test_as_backoff_number_becomes_fixed() -> None:
    assert as_backoff(5) == Fixed(5.0)
    assert as_backoff(0.5).delay(3) == 0.5


def test_as_backoff_keeps_a_policy_as_is() -> None:
    policy = Exponential(base=2.0)
    assert as_backoff(policy) is policy


def test_as_backoff_wraps_a_function_of_the_attempt() -> None:
    backoff = as_backoff(lambda attempt: attempt * 10.0)
    assert isinstance(backoff, Custom)
    assert backoff.delay(3) == 30.0


def test_as_backoff_refuses_negative_seconds_with_a_one_line_message() -> None:
    with pytest.raises(ValueError, match=r"backoff must be .*>= 0, got -3") as info:
        as_backoff(-3)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", [True, "5", [1, 2]])
def test_as_backoff_refuses_values_that_are_not_a_policy(value: object) -> None:
    with pytest.raises(TypeError, match="backoff must be"):
        as_backoff(value)  # type: ignore[arg-type]


def test_custom_policy_refuses_a_negative_result_naming_the_function() -> None:
    def bad_backoff(attempt: int) -> float:
        return -1.0

    with pytest.raises(ValueError, match=r"bad_backoff\(2\)"):
        as_backoff(bad_backoff).delay(2)
