"""Request values: each kind parses exactly what its JSON Schema promises (no database, no server)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from jobq.web.limits import TokenBuckets
from jobq.web.values import Boolean, Field, Fields, Integer, Invalid, Moment, Text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7d", timedelta(days=7)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.5+02:00", datetime(2024, 5, 1, 10, 0, 0, 500_000, tzinfo=timezone(timedelta(hours=2)))),
    ],
)
def test_a_moment_is_a_duration_ago_or_a_time_with_its_offset(text: str, value: Any) -> None:
    assert Moment().from_text(text) == value
    assert re.fullmatch(Moment().schema()["pattern"], text)


@pytest.mark.parametrize(
    "text", ["2024-05-01T10:00:00", "2024-02-30T00:00:00Z", "yesterday", "7 d", "1.5h", "", "\uff17d", "2024-05-01"]
)
def test_a_moment_refuses_anything_else(text: str) -> None:
    with pytest.raises(Invalid):
        Moment().from_text(text)


def test_integers_are_plain_ascii_digits_within_bounds() -> None:
    kind = Integer(1, 100)
    assert kind.from_text("42") == 42 and kind.from_json(42) == 42 and kind.from_json(42.0) == 42
    for text in ("0", "101", "1e2", "4.2", "١٢", " 4", "+4"):
        with pytest.raises(Invalid):
            kind.from_text(text)
    for value in (True, 4.5, "4", None):
        with pytest.raises(Invalid):
            kind.from_json(value)


def test_text_is_bounded_and_never_holds_nul() -> None:
    kind = Text(max_length=5)
    assert kind.from_text("acme") == "acme"
    for text in ("", "toolong", "a\x00b"):
        with pytest.raises(Invalid):
            kind.from_text(text)


def test_booleans_are_true_or_false() -> None:
    assert Boolean().from_text("true") is True and Boolean().from_text("false") is False
    with pytest.raises(Invalid):
        Boolean().from_text("1")


SELECTION = Fields(
    {
        "ids": Field(Text(), "ids"),
        "filter": Field(Text(), "filter"),
        "cursor": Field(Text(), "cursor", nullable=True),
        "delay": Field(Integer(0, 9), "delay"),
        "run_at": Field(Text(), "run at"),
    },
    one_of=("ids", "filter"),
    exclusive=(("delay", "run_at"),),
)


@pytest.mark.parametrize(
    "body",
    [{}, {"ids": "a", "filter": "b"}, {"ids": "a", "delay": 1, "run_at": "x"}, {"ids": "a", "colour": 1},
     {"ids": "a", "delay": None}, {"ids": "a", "delay": 10}, []],
)  # fmt: skip
def test_an_object_is_refused_when_its_schema_refuses_it(body: Any) -> None:
    with pytest.raises(Invalid):
        SELECTION.from_json(body)


def test_an_object_keeps_what_was_given_and_drops_nulls_where_allowed() -> None:
    assert SELECTION.from_json({"ids": "a", "cursor": None, "delay": 3}) == {"ids": "a", "delay": 3}
    schema = SELECTION.schema()
    assert schema["additionalProperties"] is False
    assert schema["anyOf"] == [{"required": ["ids"]}, {"required": ["filter"]}]
    assert {"not": {"required": ["delay", "run_at"]}} in schema["allOf"]
    assert {"not": {"required": ["ids", "filter"]}} in schema["allOf"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_a_burst_then_the_rate_per_client() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    assert buckets.take("b") == 0.0  # another client has its own bucket
    clock.now += 0.5
    assert buckets.take("a") == 0.0 and buckets.take("a") == pytest.approx(0.5)
    clock.now += 100
    assert [buckets.take("a") for _ in range(4)][-1] > 0  # refilled to the burst, never beyond


def test_buckets_forget_the_idlest_clients_past_their_bound() -> None:
    clock = Clock()
    buckets = TokenBuckets(rate=1.0, burst=1, max_clients=2, clock=clock)
    buckets.take("a")
    buckets.take("b")
    buckets.take("c")  # "a" is forgotten
    assert buckets.take("a") == 0.0 and buckets.take("c") > 0
