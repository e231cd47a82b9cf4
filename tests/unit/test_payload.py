"""JSON-only payloads: validation on enqueue, encoding for storage, decoding what was stored."""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import timeit
import uuid
from collections import OrderedDict
from typing import Any

import pytest

from jobq.errors import PayloadError
from jobq.payload import MAX_BYTES, MAX_DEPTH, accept, build, dumps, encode, loads, shown


class Color(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_build_wraps_args_and_kwargs_and_turns_tuples_into_lists() -> None:
    payload = build(("+821012345678", (1, 2)), {"body": "hi", "meta": {"tags": ("a", "b"), "n": None}})
    assert payload == {
        "args": ["+821012345678", [1, 2]],
        "kwargs": {"body": "hi", "meta": {"tags": ["a", "b"], "n": None}},
    }
    assert type(payload["args"][1]) is list
    assert type(payload["kwargs"]["meta"]["tags"]) is list


def test_build_accepts_every_json_scalar() -> None:
    values = ["s", "", 0, -7, 10**30, 1.5, True, False, None]
    assert build(values, {})["args"] == values


def test_build_copies_so_later_mutation_of_the_caller_data_does_not_leak_in() -> None:
    meta: dict[str, Any] = {"tags": ["a"]}
    payload = build((), {"meta": meta})
    meta["tags"].append("b")
    assert payload["kwargs"]["meta"] == {"tags": ["a"]}


def test_build_stores_str_and_int_enums_as_their_plain_values() -> None:
    payload = build((Color.RED,), {"level": Level.HIGH, Color.RED: OrderedDict(a=1)})
    assert payload == {"args": ["red"], "kwargs": {"level": 3, "red": {"a": 1}}}
    assert type(payload["args"][0]) is str and type(payload["kwargs"]["level"]) is int


def test_build_error_names_a_datetime_kwarg_with_its_value() -> None:
    with pytest.raises(PayloadError) as info:
        build((), {"when": datetime.datetime(2026, 1, 1)})
    assert str(info.value) == (
        "payload is not JSON: kwargs['when'] is a datetime.datetime (2026-01-01 00:00:00); "
        "pass JSON values only (str, int, float, bool, None, list, dict)"
    )


@pytest.mark.parametrize(
    ("args", "kwargs", "where", "what"),
    [
        ((1, {"a": [2, {3, 4}]}), {}, "args[1]['a'][1]", "is a set ({3, 4})"),
        ((), {"amount": decimal.Decimal("9.99")}, "kwargs['amount']", "is a decimal.Decimal (9.99)"),
        (
            (),
            {"id": uuid.UUID(int=0)},
            "kwargs['id']",
            "is a uuid.UUID (00000000-0000-0000-0000-000000000000)",
        ),
        ((b"raw",), {}, "args[0]", "is a bytes (b'raw')"),
        ((object(),), {}, "args[0]", "is an object (<object object at"),
    ],
)
def test_build_error_names_the_path_and_type_of_the_offending_value(
    args: tuple[Any, ...], kwargs: dict[str, Any], where: str, what: str
) -> None:
    with pytest.raises(PayloadError) as info:
        build(args, kwargs)
    message = str(info.value)
    assert message.startswith(f"payload is not JSON: {where} {what}")
    assert "\n" not in message


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_build_error_names_nan_and_infinity(value: float) -> None:
    with pytest.raises(PayloadError, match=r"kwargs\['ratio'\]\[0\] is (nan|inf|-inf) \(float\); JSON has no NaN"):
        build((), {"ratio": [value]})


def test_build_error_names_a_non_str_dict_key_and_where_the_dict_is() -> None:
    with pytest.raises(PayloadError) as info:
        build(({"ok": {1: "one"}},), {})
    assert str(info.value) == (
        "payload is not JSON: args[0]['ok'] has a non-str key 1 (int); JSON object keys must be str"
    )


def test_build_error_shows_a_long_or_multiline_value_on_one_short_line() -> None:
    class Noisy:
        def __str__(self) -> str:
            return "line one\nline two " + "x" * 500

    with pytest.raises(PayloadError) as info:
        build((Noisy(),), {})
    message = str(info.value)
    assert "\n" not in message
    assert "(line one line two xxx" in message
    assert "x" * 60 not in message


def test_build_error_survives_a_value_whose_str_raises() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    with pytest.raises(PayloadError, match=r"args\[0\] is a .*Unprintable \(unprintable\)"):
        build((Unprintable(),), {})


def test_build_refuses_a_payload_that_contains_itself() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(PayloadError, match="nested too deeply or contains itself"):
        build((loop,), {})


@pytest.mark.parametrize(("args", "kwargs"), [("abc", {}), ((), [("a", 1)])])
def test_build_refuses_args_that_are_not_a_sequence_or_kwargs_not_a_mapping(args: Any, kwargs: Any) -> None:
    with pytest.raises(PayloadError, match="must be a"):
        build(args, kwargs)


def test_payload_error_is_a_type_error_for_callers_that_catch_that() -> None:
    with pytest.raises(TypeError):
        build((datetime.date(2026, 1, 1),), {})


def test_build_small_payload_is_fast() -> None:
    # A guard against accidental json round-trips, not a benchmark: the target is ~2 µs, allow slack for CI.
    kwargs = {"to": "+821012345678", "body": "hi there", "retries": 3, "meta": {"tenant": "acme"}}
    best = min(timeit.repeat(lambda: build((), kwargs), number=2_000, repeat=5)) / 2_000
    assert best < 20e-6


def test_dumps_is_compact_and_keeps_unicode() -> None:
    text = dumps(build(("안녕",), {"n": 1}))
    assert text == '{"args":["안녕"],"kwargs":{"n":1}}'


def test_dumps_refuses_nan_even_when_build_was_bypassed() -> None:
    with pytest.raises(PayloadError, match="payload is not JSON"):
        dumps({"args": [float("nan")], "kwargs": {}})


def test_loads_round_trips_what_dumps_wrote() -> None:
    payload = build((1, [2.5, None]), {"to": "+8210", "nested": {"ok": True}})
    assert loads(dumps(payload)) == payload


def test_loads_fills_in_missing_args_or_kwargs() -> None:
    assert loads('{"kwargs": {"a": 1}}') == {"args": [], "kwargs": {"a": 1}}
    assert loads('{"args": [1]}') == {"args": [1], "kwargs": {}}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"args": [NaN], "kwargs": {}}', "not valid JSON: NaN is not JSON"),
        ("[1, 2]", "must be a JSON object, got list"),
        ('{"args": {}, "kwargs": {}}', "'args' must be a JSON array"),
        ('{"args": [], "kwargs": []}', "'kwargs' must be a JSON object"),
        ('{"args": [], "kwargs": {}, "pickle": "gASV"}', "unexpected key 'pickle'"),
    ],
)
def test_loads_refuses_a_malformed_stored_payload(text: str, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        loads(text)


def test_loads_result_is_plain_json_data() -> None:
    text = json.dumps({"args": [[1, 2]], "kwargs": {"k": {"v": "w"}}})
    assert loads(text) == {"args": [[1, 2]], "kwargs": {"k": {"v": "w"}}}


def test_encode_returns_the_checked_payload_and_the_text_stored_for_it() -> None:
    payload, text = encode((1e16, -0.0), {"big": 2**70})
    assert payload == {"args": [1e16, -0.0], "kwargs": {"big": 2**70}}
    assert text == '{"args":[1e+16,-0.0],"kwargs":{"big":1180591620717411303424}}'


def test_a_backslash_before_u0000_is_text_not_a_nul_and_is_accepted() -> None:
    assert encode((), {"path": "C:\\u0000"})[1] == '{"args":[],"kwargs":{"path":"C:\\\\u0000"}}'


def test_an_argument_may_nest_exactly_max_depth_lists_and_dicts() -> None:
    value: Any = 0
    for _ in range(MAX_DEPTH):
        value = {"k": value}
    assert build((value,), {})["args"][0] == value
    with pytest.raises(PayloadError, match=r"args\[0\]\['k'\].*\(\d+ more\).* is nested too deeply"):
        build(({"k": value},), {})


def test_a_payload_just_over_one_mebibyte_is_refused_naming_the_limit() -> None:
    build((), {"x": "é" * (MAX_BYTES // 2 - 100)})  # two bytes each: just under
    with pytest.raises(PayloadError, match=r"payload is too large: 1,048,\d+ bytes of JSON, more than the limit"):
        build((), {"x": "é" * (MAX_BYTES // 2)})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([1], "it must be an object"),
        ({"args": [], "kwargs": {}, "x": 1}, "unexpected key 'x'"),
        ({"args": {}}, "args must be a list"),
        ({"kwargs": []}, "kwargs must be a dict"),
        ({"kwargs": {"x": float("inf")}}, r"kwargs\['x'\] is inf"),
    ],
)
def test_accept_holds_a_whole_payload_from_outside_to_the_rule(value: Any, problem: str) -> None:
    with pytest.raises(PayloadError, match=problem):
        accept(value)


@pytest.mark.parametrize(
    ("stored", "why"),
    [
        ("[" * 100_000, "nested too deeply to decode"),
        ('{"args": [' + "[" * 70 + "]" * 70 + "]}", f"nested deeper than {MAX_DEPTH} lists and dicts"),
        ('{"args": [1e999]}', "it holds inf"),
        ('{"args": [NaN]}', "NaN is not JSON"),
        ("{not json", "not valid JSON"),
        ('"a string"', "must be a JSON object"),
        ("x" * (MAX_BYTES + 1), "more than the 1,048,576-byte limit"),
        (b"bytes", "stored as bytes"),
    ],
)
def test_shown_reads_any_stored_payload_without_raising_empty_with_a_one_line_note(stored: Any, why: str) -> None:
    payload, note = shown(stored)
    assert payload == {"args": [], "kwargs": {}}
    assert note is not None and note.startswith("payload could not be shown: ") and why in note
    assert "\n" not in note and len(note) < 600


def test_shown_passes_a_payload_within_the_rule_through_untouched() -> None:
    assert shown('{"args": [1.0, -0.0], "kwargs": {}}') == ({"args": [1.0, -0.0], "kwargs": {}}, None)
