"""Classification of failures, Retry-After, the declarative policy, describe() and fingerprints."""

from __future__ import annotations

import re
import sqlite3
import sys
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from jobq import errors
from jobq.classify import (
    Classifier,
    Decision,
    Policy,
    Rule,
    default_decision,
    http_status,
    retry_after,
)
from jobq.clock import to_datetime
from jobq.fingerprint import describe, failing_frame, fingerprint, normalize_message, storable_text

NOW = 1_767_225_600.0  # 2026-01-01T00:00:00Z


# -- fake third-party exception shapes (no httpx / requests / aiohttp needed) -----------------------


class FakeResponse:
    def __init__(self, status_code: int, headers: Any = None) -> None:
        self.status_code = status_code
        self.headers = headers if headers is not None else {}


class HTTPStatusError(Exception):
    """Shaped like httpx.HTTPStatusError / requests.HTTPError: the status is on ``.response``."""

    def __init__(self, status_code: int, headers: Any = None) -> None:
        super().__init__(f"HTTP {status_code}")
        self.response = FakeResponse(status_code, headers)


class ClientResponseError(Exception):
    """Shaped like aiohttp.ClientResponseError: ``.status`` and ``.headers`` on the exception."""

    def __init__(self, status: int, headers: Any = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.headers = headers


class StatusCodeError(Exception):
    def __init__(self, status_code: object) -> None:
        super().__init__("status")
        self.status_code = status_code


class RequestException(OSError):
    """requests' exceptions derive from IOError."""

    def __init__(self, message: str = "request failed", response: FakeResponse | None = None) -> None:
        super().__init__(message)
        self.response = response


class TimeoutException(Exception):  # httpx: ReadTimeout → TimeoutException → TransportError
    pass


class ReadTimeout(TimeoutException):
    pass


class ConnectError(Exception):  # httpx.ConnectError
    pass


# requests.ConnectionError: same name as the builtin, but an IOError underneath.
RequestsConnectionError = type("ConnectionError", (RequestException,), {})


class ValidationError(ValueError):  # pydantic / marshmallow / django
    pass


class ModelValidationError(ValidationError):
    pass


class OperationalError(Exception):  # psycopg / sqlalchemy
    pass


class HeadersObject:
    """An object with ``.get`` but no Mapping interface."""

    def __init__(self, values: dict[str, str]) -> None:
        self._values = values

    def get(self, name: str, default: Any = None) -> Any:
        return self._values.get(name, default)


class RaisingProperty(Exception):
    @property
    def response(self) -> Any:
        raise RuntimeError("lazy attribute exploded")

    @property
    def status_code(self) -> int:
        raise KeyError("boom")


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


class NonStringStr(Exception):
    def __str__(self) -> Any:
        return 42


# -- http_status ------------------------------------------------------------------------------------


def test_http_status_reads_response_status_code_like_httpx_and_requests() -> None:
    assert http_status(HTTPStatusError(503)) == 503


def test_http_status_reads_status_on_the_exception_like_aiohttp() -> None:
    assert http_status(ClientResponseError(429)) == 429


def test_http_status_reads_response_status_like_aiohttp_responses() -> None:
    exc = Exception("x")
    exc.response = type("R", (), {"status": 404})()  # type: ignore[attr-defined]
    assert http_status(exc) == 404


def test_http_status_reads_a_response_that_is_falsy_like_requests_on_errors() -> None:
    class FalsyResponse(FakeResponse):
        def __bool__(self) -> bool:  # requests.Response is falsy for 4xx/5xx
            return False

    exc = RequestException(response=FalsyResponse(422, {"Retry-After": "9"}))
    assert http_status(exc) == 422
    assert retry_after(exc, NOW) == 9.0


@pytest.mark.parametrize("value", [99, 600, "503", True, None, 503.0])
def test_http_status_ignores_values_that_are_not_an_http_status(value: object) -> None:
    assert http_status(StatusCodeError(value)) is None


def test_http_status_is_none_when_attribute_access_raises() -> None:
    assert http_status(RaisingProperty()) is None


def test_http_status_is_none_for_a_requests_error_without_response() -> None:
    assert http_status(RequestException(response=None)) is None


# -- retry_after ------------------------------------------------------------------------------------


def test_retry_after_of_jobq_retry_is_its_after() -> None:
    assert retry_after(errors.Retry(after=12.5), NOW) == 12.5
    assert retry_after(errors.Retry(), NOW) is None


def test_retry_after_reads_delta_seconds_from_response_headers() -> None:
    assert retry_after(HTTPStatusError(429, {"Retry-After": "30"}), NOW) == 30.0


def test_retry_after_header_lookup_is_case_insensitive() -> None:
    assert retry_after(HTTPStatusError(429, {"retry-after": " 7 "}), NOW) == 7.0
    assert retry_after(ClientResponseError(503, {"RETRY-AFTER": "8"}), NOW) == 8.0


def test_retry_after_reads_headers_from_an_object_with_get() -> None:
    assert retry_after(HTTPStatusError(429, HeadersObject({"Retry-After": "3"})), NOW) == 3.0


def test_retry_after_parses_an_http_date_relative_to_now() -> None:
    date = format_datetime(to_datetime(NOW + 120), usegmt=True)
    assert retry_after(HTTPStatusError(503, {"Retry-After": date}), NOW) == pytest.approx(120.0)


def test_retry_after_http_date_in_the_past_is_zero_never_negative() -> None:
    date = format_datetime(to_datetime(NOW - 3600), usegmt=True)
    assert retry_after(HTTPStatusError(503, {"Retry-After": date}), NOW) == 0.0


@pytest.mark.parametrize("value", ["soon", "", "-5", "nan", "inf", "Mon, 99 Foo 2026"])
def test_retry_after_is_none_when_the_header_cannot_be_parsed(value: str) -> None:
    assert retry_after(HTTPStatusError(429, {"Retry-After": value}), NOW) is None


def test_retry_after_is_none_when_absent_or_when_reading_raises() -> None:
    assert retry_after(HTTPStatusError(429), NOW) is None
    assert retry_after(ValueError("x"), NOW) is None
    assert retry_after(RaisingProperty(), NOW) is None


# -- the default classification table ----------------------------------------------------------------


@pytest.mark.parametrize(
    "exc",
    [
        errors.Retry(),
        TimeoutError(),
        errors.JobTimeout("took too long"),  # asyncio.TimeoutError and socket.timeout are TimeoutError
        ConnectionError(),
        ConnectionResetError(),
        ReadTimeout("read timed out"),
        ConnectError("connection refused"),
        RequestsConnectionError("max retries exceeded"),
        HTTPStatusError(429),
        HTTPStatusError(503),
        HTTPStatusError(504),
        ClientResponseError(503),
    ],
    ids=repr,
)
def test_default_recoverable_failures_are_retried(exc: BaseException) -> None:
    assert default_decision(exc, NOW) == Decision("recoverable", "retry")


@pytest.mark.parametrize(
    "exc",
    [
        errors.Permanent("invalid number"),
        errors.PayloadError("cannot take this payload"),
        ValidationError("field required"),
        ModelValidationError("subclass of a validation error"),
        HTTPStatusError(400),
        HTTPStatusError(404),
        HTTPStatusError(422),
    ],
    ids=repr,
)
def test_default_user_errors_go_dead_at_once(exc: BaseException) -> None:
    assert default_decision(exc, NOW) == Decision("user_error", "dead")


@pytest.mark.parametrize(
    "exc",
    [
        HTTPStatusError(500),
        HTTPStatusError(502),
        MemoryError(),
        OSError("disk full"),
        PermissionError("denied"),
        FileNotFoundError("missing"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.IntegrityError("UNIQUE constraint failed"),
        OperationalError("server closed the connection"),
        errors.WorkerLost("lease expired"),
    ],
    ids=repr,
)
def test_default_system_errors_are_retried(exc: BaseException) -> None:
    assert default_decision(exc, NOW) == Decision("system_error", "retry")


def test_default_unknown_task_is_a_system_error_dead_at_once() -> None:
    assert default_decision(errors.UnknownTask("no task 'x'"), NOW) == Decision("system_error", "retry")


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("x"), KeyError("k"), ValueError("bad"), TypeError("t"), HTTPStatusError(401)],
    ids=repr,
)
def test_default_anything_else_is_unknown_and_retried(exc: BaseException) -> None:
    assert default_decision(exc, NOW) == Decision("unknown", "retry")


def test_default_http_status_takes_precedence_over_the_exception_type() -> None:
    class HTTPTimeoutStatus(ReadTimeout):
        status_code = 400

    assert default_decision(HTTPTimeoutStatus(), NOW).error_class == "user_error"
    assert default_decision(RequestException(response=FakeResponse(400)), NOW) == Decision("user_error", "dead")


def test_default_requests_error_with_an_unlisted_status_is_not_an_os_failure() -> None:
    assert default_decision(RequestException(response=FakeResponse(401)), NOW).error_class == "unknown"


def test_default_decision_carries_the_retry_after_delay() -> None:
    assert default_decision(HTTPStatusError(429, {"Retry-After": "42"}), NOW) == Decision("recoverable", "retry", 42.0)
    assert default_decision(errors.Retry(after=5), NOW).delay == 5.0


def test_default_decision_for_dead_failures_has_no_delay() -> None:
    assert default_decision(HTTPStatusError(400, {"Retry-After": "42"}), NOW).delay is None


# -- declarative policy -----------------------------------------------------------------------------


def test_policy_rule_matches_bare_and_qualified_type_names_across_the_mro() -> None:
    qualified = f"{__name__}.TimeoutException"
    for name in ("ReadTimeout", "TimeoutException", qualified, "builtins.Exception", "Exception"):
        rule = Rule(types=(name,), error_class="system_error")
        assert rule.matches(ReadTimeout()), name
    assert not Rule(types=("KeyError",), error_class="unknown").matches(ReadTimeout())


def test_policy_rule_matches_a_type_by_the_package_that_exports_it() -> None:
    # httpx.ReadTimeout is defined in httpx._exceptions; operators write the public name.
    exported = type("ReadTimeout", (Exception,), {"__module__": "httpx._exceptions"})
    assert Rule(types=("httpx.ReadTimeout",), error_class="recoverable").matches(exported())
    assert not Rule(types=("requests.ReadTimeout",), error_class="recoverable").matches(exported())
    assert Rule(types=("jobq.WorkerLost",), error_class="recoverable").matches(errors.WorkerLost())


def test_policy_rule_requires_every_given_criterion() -> None:
    rule = Rule(types=("HTTPStatusError",), statuses=(400,), message=re.compile("HTTP"), error_class="unknown")
    assert rule.matches(HTTPStatusError(400))
    assert not rule.matches(HTTPStatusError(401))
    assert not rule.matches(ClientResponseError(400))


def test_policy_first_matching_rule_wins() -> None:
    policy = Policy.from_dict(
        {
            "rules": [
                {"message": "invalid number", "class": "user_error", "action": "dead"},
                {"type": "Permanent", "class": "system_error"},
            ]
        }
    )
    assert policy.decide(errors.Permanent("invalid number +8210"), NOW) == Decision("user_error", "dead")
    # Regexes are case-sensitive unless they say (?i), so the second rule decides this one.
    assert policy.decide(errors.Permanent("Invalid number +8210"), NOW) == Decision("system_error", "retry")
    assert policy.decide(errors.Permanent("other"), NOW) == Decision("system_error", "retry")
    assert policy.decide(KeyError("k"), NOW) is None


def test_policy_from_dict_accepts_lists_of_types_and_statuses_and_a_delay() -> None:
    policy = Policy.from_dict(
        {"rules": [{"type": ["KeyError", "IndexError"], "status": [409, 423], "class": "recoverable", "delay": 5}]}
    )
    (rule,) = policy.rules
    assert rule == Rule(types=("KeyError", "IndexError"), statuses=(409, 423), error_class="recoverable", delay=5.0)


def test_policy_rule_delay_overrides_retry_after_and_retry_after_fills_in_otherwise() -> None:
    fixed = Policy.from_dict({"rules": [{"status": 429, "class": "recoverable", "delay": 5}]})
    sniffed = Policy.from_dict({"rules": [{"status": 429, "class": "recoverable"}]})
    exc = HTTPStatusError(429, {"Retry-After": "60"})
    assert fixed.decide(exc, NOW) == Decision("recoverable", "retry", 5.0)
    assert sniffed.decide(exc, NOW) == Decision("recoverable", "retry", 60.0)


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ([{"type": "KeyError", "class": "fatal"}], r"policy\.rules\[0\]: unknown class 'fatal'"),
        (
            [{"type": "KeyError", "class": "unknown", "action": "skip"}],
            r"policy\.rules\[0\]: unknown action 'skip'",
        ),
        ([{"type": "KeyError", "class": "unknown", "when": 1}], r"policy\.rules\[0\]: unknown key 'when'"),
        (
            [{"message": "(unclosed", "class": "unknown"}],
            r"policy\.rules\[0\]: bad message regex '\(unclosed'",
        ),
        ([{"class": "unknown", "action": "dead"}], r"policy\.rules\[0\]: a rule needs at least one of"),
        ([{"type": "KeyError"}], r"policy\.rules\[0\]: missing 'class'"),
        ([{"status": "429", "class": "unknown"}], r"policy\.rules\[0\]: status must be an HTTP status"),
        ([{"type": 3, "class": "unknown"}], r"policy\.rules\[0\]: type must be a class name"),
        ([{"type": "KeyError", "class": "unknown", "delay": -1}], r"policy\.rules\[0\]: delay must be"),
        ([{"type": "KeyError", "class": "unknown", "delay": "5s"}], r"policy\.rules\[0\]: delay must be"),
        ([{"type": "A", "class": "unknown"}, "KeyError"], r"policy\.rules\[1\]: a rule must be a table"),
    ],
)
def test_policy_from_dict_refuses_invalid_rules_naming_the_rule_index(rules: list[Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as info:
        Policy.from_dict({"rules": rules})
    assert "\n" not in str(info.value)


def test_policy_from_dict_refuses_unknown_top_level_keys_and_non_list_rules() -> None:
    with pytest.raises(ValueError, match="unknown key 'rule'"):
        Policy.from_dict({"rule": []})
    with pytest.raises(ValueError, match="'rules' must be a list"):
        Policy.from_dict({"rules": {"type": "KeyError"}})


def test_policy_from_toml_reads_tool_jobq_policy_from_pyproject(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[project]\nname = "x"\n\n'
        "[[tool.jobq.policy.rules]]\n"
        'type = ["httpx.ReadTimeout"]\nclass = "recoverable"\ndelay = 2.5\n\n'
        "[[tool.jobq.policy.rules]]\n"
        'status = 400\nmessage = "(?i)invalid number"\nclass = "user_error"\naction = "dead"\n',
        encoding="utf-8",
    )
    policy = Policy.from_toml(path)
    assert len(policy.rules) == 2
    assert policy.decide(HTTPStatusError(400), NOW) is None
    exc = HTTPStatusError(400)
    exc.args = ("Invalid Number +821012345678",)
    assert policy.decide(exc, NOW) == Decision("user_error", "dead")


def test_policy_from_toml_reads_policy_from_a_jobq_toml(tmp_path: Path) -> None:
    path = tmp_path / "jobq.toml"
    path.write_text('[[policy.rules]]\ntype = "KeyError"\nclass = "user_error"\naction = "dead"\n')
    assert Policy.from_toml(str(path)).decide(KeyError("k"), NOW) == Decision("user_error", "dead")


def test_policy_from_toml_without_a_policy_table_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n')
    assert Policy.from_toml(path).rules == ()


def test_policy_from_toml_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "jobq.toml"
    path.write_text('[[policy.rules]]\nclass = "nope"\ntype = "KeyError"\n')
    with pytest.raises(ValueError, match=r"jobq\.toml: policy\.rules\[0\]: unknown class 'nope'"):
        Policy.from_toml(path)
    path.write_text("[[policy.rules]\n")
    with pytest.raises(ValueError, match=r"jobq\.toml: "):
        Policy.from_toml(path)


# -- Classifier -------------------------------------------------------------------------------------


def test_classifier_uses_the_policy_first_then_the_defaults() -> None:
    classifier = Classifier(Policy([Rule(types=("KeyError",), error_class="user_error", action="dead")]))
    assert classifier(KeyError("k"), NOW) == Decision("user_error", "dead")
    assert classifier(TimeoutError(), NOW) == Decision("recoverable", "retry")
    assert Classifier()(RuntimeError(), NOW) == Decision("unknown", "retry")


def test_classifier_never_raises_and_falls_back_to_unknown_retry() -> None:
    class ExplodingPolicy(Policy):
        def decide(self, exc: BaseException, now: float) -> Decision | None:
            raise RuntimeError("policy bug")

    assert Classifier(ExplodingPolicy())(KeyError("k"), NOW) == Decision("unknown", "retry")


def test_classifier_survives_exceptions_whose_attributes_and_str_raise() -> None:
    policy = Policy([Rule(message=re.compile("x"), error_class="user_error")])
    assert Classifier(policy)(RaisingProperty(), NOW) == Decision("unknown", "retry")
    assert Classifier(policy)(Unprintable(), NOW) == Decision("unknown", "retry")


# -- describe ---------------------------------------------------------------------------------------


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:  # noqa: BLE001 - capturing whatever was raised
        return caught


def test_describe_names_builtins_bare_jobq_errors_by_package_and_others_qualified() -> None:
    assert describe(KeyError("k"))[0] == "KeyError"
    assert describe(errors.WorkerLost("lost"))[0] == "jobq.WorkerLost"
    assert describe(sqlite3.OperationalError("locked"))[0] == "sqlite3.OperationalError"
    assert describe(ReadTimeout())[0] == f"{__name__}.ReadTimeout"


def test_describe_returns_message_and_formatted_traceback() -> None:
    error_type, message, text = describe(_raised(ValueError("bad input")))
    assert (error_type, message) == ("ValueError", "bad input")
    assert text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("ValueError: bad input")


def test_describe_survives_an_exception_whose_str_and_repr_raise() -> None:
    error_type, message, text = describe(_raised(Unprintable()))
    assert error_type == f"{__name__}.Unprintable"
    assert message == "<unprintable Unprintable: str() raised RuntimeError>"
    assert "Unprintable" in text


def test_describe_survives_a_str_that_returns_a_non_string() -> None:
    assert describe(NonStringStr())[1] == "<unprintable NonStringStr: str() raised TypeError>"


class ExitsEverywhere(Exception):
    """Every hook classification or formatting touches raises a BaseException that is not an Exception."""

    def __str__(self) -> str:
        raise SystemExit(1)

    def __repr__(self) -> str:
        raise KeyboardInterrupt

    @property
    def status_code(self) -> int:
        raise SystemExit(2)

    @property
    def response(self) -> Any:
        raise KeyboardInterrupt

    @property
    def headers(self) -> Any:
        raise GeneratorExit


def test_describe_and_fingerprint_survive_base_exceptions_from_str_repr_and_properties() -> None:
    exc = _raised(ExitsEverywhere())
    (error_type, message, text), frame = describe(exc), failing_frame(exc)
    del exc  # pytest's assertion rewriting would repr it (which raises)
    assert error_type == f"{__name__}.ExitsEverywhere"
    assert message == "<unprintable ExitsEverywhere: str() raised SystemExit>"
    assert "ExitsEverywhere" in text
    assert frame.endswith(":_raised")
    assert len(fingerprint(error_type, message, frame)) == 16


def test_classifier_survives_base_exceptions_from_str_and_properties() -> None:
    policy = Policy(
        [
            Rule(message=re.compile("^bad input"), error_class="user_error"),
            Rule(statuses=(404,), error_class="user_error"),
        ]
    )
    # Results held in names first: pytest's assertion rewriting would repr the exception (which raises).
    status, after, decision = (
        http_status(ExitsEverywhere()), retry_after(ExitsEverywhere(), NOW), Classifier(policy)(ExitsEverywhere(), NOW)
    )  # fmt: skip
    assert (status, after, decision) == (None, None, Decision("unknown", "retry"))


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("caf\udcff", "caf\ufffd"),
        ("a\x00b", "a\ufffdb"),
        ("\ud83d\ude00 pair", "\U0001f600 pair"),  # a surrogate pair is the character it encodes
        ("plain ascii", "plain ascii"),
    ],
)
def test_storable_text_replaces_nul_and_lone_surrogates(text: str, stored: str) -> None:
    assert storable_text(text) == stored
    stored.encode("utf-8")


def test_describe_stores_a_surrogate_message_and_class_name_as_valid_utf8() -> None:
    class Odd(Exception):
        pass

    Odd.__qualname__, Odd.__module__ = "Odd\udcff", "gen\x00"
    error_type, message, text = describe(_raised(Odd(b"\xff".decode("utf-8", "surrogateescape"))))
    assert (error_type, message) == ("gen\ufffd.Odd\ufffd", "\ufffd")
    for value in (error_type, message, text):
        assert "\x00" not in value
        value.encode("utf-8")


def test_describe_bounds_a_one_megabyte_message_keeping_head_and_tail() -> None:
    _, message, text = describe(_raised(RuntimeError("A" + "x" * 1_000_000 + "Z")), limit=8192)
    assert len(message) <= 2000
    assert message.startswith("Ax") and message.endswith("xZ")
    assert "characters cut" in message
    assert len(text) <= 8192
    assert text.startswith("Traceback") and text.rstrip().endswith("xZ")


def test_describe_bounds_a_deep_recursion_traceback() -> None:
    # Two functions calling each other, so traceback cannot fold the frames into "repeated N times".
    def ping(depth: int) -> None:
        if depth == 0:
            raise RecursionError("bottom")
        pong(depth - 1)

    def pong(depth: int) -> None:
        ping(depth - 1)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 3000))
    try:
        exc = _raised_from(lambda: ping(2000))
    finally:
        sys.setrecursionlimit(limit)
    error_type, message, text = describe(exc, limit=4000)
    assert (error_type, message) == ("RecursionError", "bottom")
    assert len(text) <= 4000
    assert re.search(r"\n… \[\d+ characters cut\] …\n", text)
    assert text.startswith("Traceback") and text.rstrip().endswith("RecursionError: bottom")


def _raised_from(call: Any) -> BaseException:
    try:
        call()
    except BaseException as caught:  # noqa: BLE001 - capturing whatever was raised
        return caught
    raise AssertionError("expected an exception")


def test_describe_marker_counts_exactly_the_characters_cut() -> None:
    original = "h" * 5000 + "t" * 5000
    _, message, _ = describe(RuntimeError(original))
    match = re.search(r"\n… \[(\d+) characters cut\] …\n", message)
    assert match is not None
    kept = message.replace(match.group(0), "")
    assert len(kept) + int(match.group(1)) == len(original)
    assert len(message) == 2000


def test_describe_traceback_falls_back_when_formatting_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("formatter bug")

    monkeypatch.setattr("traceback.format_exception", explode)
    assert describe(ValueError("bad"))[2].startswith("ValueError: bad")


def test_describe_with_a_tiny_limit_still_respects_it() -> None:
    _, _, text = describe(_raised(ValueError("bad input" * 50)), limit=10)
    assert len(text) <= 10


# -- fingerprints -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Invalid number +821012345678 for user 42", "Invalid number <n> for user <n>"),
        ("job 123e4567-e89b-12d3-a456-426614174000 failed", "job <uuid> failed"),
        ("object at 0x7f3a2b1c0d90 and sha 9f86d081884c7d65", "object at <n> and sha <n>"),
        ("mail to kim.j+tag@example.co.kr bounced", "mail to <email> bounced"),
        ("connect to 10.0.0.12:5432 refused", "connect to <ip> refused"),
        ("connect to [2001:db8::1]:8080 or fe80::1 refused", "connect to <ip> or <ip> refused"),
        ("at 2026-01-01T10:00:00.123Z and 2026-01-02 03:04:05+09:00", "at <ts> and <ts>"),
        ("key 'user_id' not in \"profile\"", "key <str> not in <str>"),
        ("can't open the user's file", "can't open the user's file"),
        (
            "GET https://api.example.com/users?id=42&token=abc failed",
            "GET https://api.example.com/users?<query> failed",
        ),
        ("  spread \n over\tlines  ", "spread over lines"),
    ],
)
def test_normalize_message_replaces_variable_parts_with_placeholders(message: str, expected: str) -> None:
    assert normalize_message(message) == expected


def test_normalize_message_is_bounded() -> None:
    assert len(normalize_message("word " * 10_000)) <= 500


def test_fingerprint_is_stable_across_differing_numbers_ids_emails_and_addresses() -> None:
    frame = "tasks.sms:send_sms"
    pairs = [
        ("Invalid number +821012345678 for user 42", "Invalid number +821099998888 for user 7"),
        ("user a@example.com not found", "user someone.else@corp.io not found"),
        ("host 10.0.0.1:80 down", "host 192.168.1.20:8443 down"),
        ("job 123e4567-e89b-12d3-a456-426614174000", "job 00000000-0000-4000-8000-000000000000"),
        ("sending message msg-3f9a0c12b7e4", "sending message msg-305918274466"),  # a hex id, all digits by chance
    ]
    for first, second in pairs:
        assert fingerprint("ValueError", first, frame) == fingerprint("ValueError", second, frame)


def test_fingerprint_differs_across_types_frames_and_wording() -> None:
    base = fingerprint("ValueError", "Invalid number 1", "tasks.sms:send_sms")
    assert len(base) == 16 and all(c in "0123456789abcdef" for c in base)
    assert base != fingerprint("KeyError", "Invalid number 1", "tasks.sms:send_sms")
    assert base != fingerprint("ValueError", "Invalid number 1", "tasks.email:send_email")
    assert base != fingerprint("ValueError", "Unknown recipient 1", "tasks.sms:send_sms")


def test_failing_frame_names_the_innermost_module_and_function_without_line_numbers() -> None:
    def inner() -> None:
        raise ValueError("x")

    def outer() -> None:
        inner()

    module, function = failing_frame(_raised_from(outer)).split(":")
    assert module == __name__
    assert function.endswith("without_line_numbers.<locals>.inner")


def test_failing_frame_is_empty_without_a_traceback() -> None:
    assert failing_frame(ValueError("never raised")) == ""


def test_same_failure_from_two_jobs_shares_a_fingerprint_end_to_end() -> None:
    def send_sms(to: str, user: int) -> None:
        raise ValueError(f"Invalid number {to} for user {user}")

    prints = set()
    for to, user in (("+821012345678", 42), ("+821099998888", 7)):
        exc = _raised_from(lambda to=to, user=user: send_sms(to, user))
        error_type, message, _ = describe(exc)
        prints.add(fingerprint(error_type, message, failing_frame(exc)))
    assert len(prints) == 1
