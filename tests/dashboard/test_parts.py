"""The dashboard's security and parsing parts on their own: sessions, origin checks, filters, payload edits."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from jobq.redact import Redactor
from jobq.web.auth import Tokens
from jobq.web.csrf import cross_origin
from jobq.web.dashboard.editing import edited_payload
from jobq.web.dashboard.query import Filter, Invalid, moment
from jobq.web.sessions import COOKIE, Sessions, Signer


def scope_with(**headers: str) -> dict[str, object]:
    return {"type": "http", "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_cookie_reads_back_until_it_expires_and_never_when_altered() -> None:
    clock = Clock()
    sessions = Sessions(b"k" * 32, max_age=60, clock=clock)
    session = sessions.start("read")
    value = sessions.set_cookie(session, {"root_path": ""}).split(";")[0].split("=", 1)[1]
    assert sessions.read(scope_with(cookie=f"{COOKIE}={value}")) == session
    body, _, mac = value.partition(".")
    assert sessions.read(scope_with(cookie=f"{COOKIE}={body}x.{mac}")) is None
    other = Sessions(b"o" * 32, clock=clock)
    assert other.read(scope_with(cookie=f"{COOKIE}={value}")) is None  # a token changed: signed out
    clock.now += 61
    assert sessions.read(scope_with(cookie=f"{COOKIE}={value}")) is None


def test_the_cookie_is_http_only_strict_scoped_to_the_dashboard_and_secure_over_https() -> None:
    sessions = Sessions(b"k" * 32)
    plain = sessions.set_cookie(sessions.start("write"), {"root_path": "/jobq", "scheme": "http"})
    assert "; Path=/jobq/dashboard;" in plain and "; HttpOnly; SameSite=Strict" in plain and "Secure" not in plain
    assert plain.endswith("SameSite=Strict")
    assert sessions.set_cookie(sessions.start("write"), {"scheme": "https"}).endswith("; Secure")


def test_csrf_tokens_belong_to_their_session() -> None:
    sessions = Sessions(b"k" * 32)
    first, second = sessions.start(None), sessions.start(None)
    assert sessions.valid_csrf(first, sessions.csrf_token(first))
    assert not sessions.valid_csrf(second, sessions.csrf_token(first))
    assert not sessions.valid_csrf(first, "")


def test_session_keys_come_from_the_tokens() -> None:
    assert Tokens("a", "b").secret("x") == Tokens("a", "b").secret("x") != Tokens("a", "c").secret("x")
    assert Tokens(None).secret("x") == b""
    with pytest.raises(ValueError, match="16 bytes"):
        Signer(b"short")


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"sec_fetch_site": "same-origin"}, False),
        ({"sec_fetch_site": "same-site"}, True),
        ({"sec_fetch_site": "cross-site"}, True),
        ({"sec_fetch_site": "none"}, True),
        ({"origin": "http://127.0.0.1:8000", "host": "127.0.0.1:8000"}, False),
        ({"origin": "http://127.0.0.1:9999", "host": "127.0.0.1:8000"}, True),
        ({"origin": "null", "host": "127.0.0.1:8000"}, True),
        ({}, False),  # no browser: the token alone decides
    ],
)
def test_only_same_origin_requests_pass_the_origin_check(headers: dict[str, str], refused: bool) -> None:
    assert (cross_origin(scope_with(**headers)) is not None) == refused


def test_filters_parse_durations_dates_and_refuse_what_they_cannot_use() -> None:
    assert moment("36h") == timedelta(hours=36) and moment("1h30m") == timedelta(minutes=90)
    assert moment("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert moment("2024-05-01 10:30") == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
    assert moment("2024-05-01T10:30:00+02:00") == datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    chosen = Filter.letters({"task": " sms ", "class": "user_error", "q": "", "cursor": "x"})
    assert chosen.values == {"task": "sms", "class": "user_error"}
    assert chosen.letter_filters() == {"task": "sms", "error_class": "user_error"}
    assert chosen.query(cursor="X") == "?task=sms&class=user_error&cursor=X"
    for bad in ({"class": "oops"}, {"since": "last tuesday"}, {"resolution": "done"}, {"task": "a\x00b"}):
        with pytest.raises(Invalid):
            Filter.letters(bad).letter_filters()


def test_a_recorded_filter_reads_back_as_the_lists_filter_even_from_before_year_one() -> None:
    recorded = {"error_class": "user_error", "search": "timed out", "since": 1_714_557_600.0, "until": -6e11,
                "unresolved": True}  # fmt: skip
    chosen = Filter.stored(recorded)
    assert chosen.values == {"class": "user_error", "q": "timed out", "since": "2024-05-01 10:00:00",
                             "until": "0001-01-01 00:00:00"}  # fmt: skip
    assert chosen.letter_filters()["since"] == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_an_edited_payload_keeps_the_stored_values_of_what_was_left_redacted() -> None:
    redactor = Redactor()
    original = {"args": ["+15550001111"], "kwargs": {"to": "+15550001111", "api_key": "sk_1", "note": "mail a@b.co"}}
    shown = redactor.payload(original)
    assert shown["kwargs"] == {"to": "[redacted phone]", "api_key": "[redacted]", "note": "mail [redacted email]"}
    edited = {"args": shown["args"], "kwargs": {**shown["kwargs"], "note": "fixed", "retry": True}}
    payload = edited_payload(json.dumps(edited), original, redactor)
    assert payload == {"args": ["+15550001111"], "kwargs": {"to": "+15550001111", "api_key": "sk_1", "note": "fixed",
                                                            "retry": True}}  # fmt: skip
    for text, message in (("[1]", "must be"), ('{"args": 1}', "args a list"), ("{", "not valid JSON"),
                          ('{"args": [], "x": 1}', "must be"), ('{"args": [NaN]}', "not valid JSON")):  # fmt: skip
        with pytest.raises(Invalid, match=message):
            edited_payload(text, original, redactor)
