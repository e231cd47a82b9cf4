"""Failed attempt → error class and action: HTTP status, Retry-After, the declarative policy."""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal

from jobq import errors
from jobq.fingerprint import error_message
from jobq.job import ERROR_CLASSES, ErrorClass

Action = Literal["retry", "dead"]
ACTIONS: tuple[Action, ...] = ("retry", "dead")


@dataclass(frozen=True)
class Decision:
    """What to do with a failed attempt; ``delay`` (seconds) overrides the task's backoff when set."""

    error_class: ErrorClass
    action: Action
    delay: float | None = None


# -- reading what an exception carries --------------------------------------------------------------


def _attr(owner: object, name: str) -> Any:
    # Third-party exceptions compute attributes lazily (properties); those may raise anything.
    try:
        return getattr(owner, name, None)
    except BaseException:  # noqa: BLE001 - user code (a property) may raise anything, SystemExit too
        return None


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an exception carries (``status_code``/``status``, on it or on its ``response``)."""
    for owner in (exc, _attr(exc, "response")):
        if owner is None:
            continue
        for name in ("status_code", "status"):
            value = _attr(owner, name)
            if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
                return int(value)
    return None


def _header(headers: Any, name: str) -> Any:
    if headers is None:
        return None
    try:
        # httpx, requests, aiohttp and email.message all look headers up case-insensitively already.
        value = headers.get(name)
        if value is None and isinstance(headers, Mapping):
            wanted = name.lower()
            value = next((v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted), None)
        return value
    except BaseException:  # noqa: BLE001 - user code (a property) may raise anything, SystemExit too
        return None


def _parse_retry_after(value: Any, now: float) -> float | None:
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if not isinstance(text, str):
        return None
    try:
        seconds = float(text.strip())
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:  # "-0000" in an HTTP-date means UTC with no zone information
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def retry_after(exc: BaseException, now: float) -> float | None:
    """Seconds the failure asks us to wait: ``jobq.Retry(after=)`` or a ``Retry-After`` header."""
    try:
        if isinstance(exc, errors.Retry) and exc.after is not None:
            after = float(exc.after)
            return max(0.0, after) if math.isfinite(after) else None
        for headers in (_attr(_attr(exc, "response"), "headers"), _attr(exc, "headers")):
            value = _header(headers, "Retry-After")
            if value is not None:
                return _parse_retry_after(value, now)
    except BaseException:  # noqa: BLE001 - user code (a property) may raise anything, SystemExit too
        pass
    return None


# -- the default table (SPEC section 2) -------------------------------------------------------------

_STATUS_TABLE: dict[int, tuple[ErrorClass, Action]] = {
    **dict.fromkeys((429, 503, 504), ("recoverable", "retry")),
    **dict.fromkeys((400, 404, 422), ("user_error", "dead")),
    **dict.fromkeys((500, 502), ("system_error", "retry")),
}
# Matched by name so that httpx, requests, aiohttp, pydantic or psycopg need not be imported.
_TRANSIENT = re.compile(r"Timeout|ConnectError|ConnectionError")
_VALIDATION = re.compile(r"ValidationError")
_DATABASE_NAMES = frozenset({"DatabaseError", "OperationalError", "InterfaceError"})


def _mro_names(exc: BaseException) -> list[str]:
    return [cls.__name__ for cls in type(exc).__mro__]


def _default_class(exc: BaseException) -> tuple[ErrorClass, Action]:
    status = http_status(exc)
    if status in _STATUS_TABLE:
        return _STATUS_TABLE[status]
    names = _mro_names(exc)
    if isinstance(exc, errors.UnknownTask):
        return "system_error", "retry"  # a deploy under way heals it; jobq.worker.failure bounds how long it waits
    if isinstance(exc, errors.Permanent | errors.PayloadError) or any(map(_VALIDATION.search, names)):
        return "user_error", "dead"
    if isinstance(exc, errors.Retry | TimeoutError | ConnectionError) or any(map(_TRANSIENT.search, names)):
        return "recoverable", "retry"
    # requests' exceptions are OSErrors; one with an HTTP status is an unexpected reply, not an OS failure.
    os_failure = isinstance(exc, OSError) and status is None
    if os_failure or isinstance(exc, MemoryError | errors.WorkerLost) or _DATABASE_NAMES.intersection(names):
        return "system_error", "retry"
    return "unknown", "retry"


def default_decision(exc: BaseException, now: float) -> Decision:
    """The decision of the default classification table, honouring Retry-After when retrying."""
    error_class, action = _default_class(exc)
    return Decision(error_class, action, retry_after(exc, now) if action == "retry" else None)


# -- declarative policy -----------------------------------------------------------------------------


def _type_matches(pattern: str, cls: type) -> bool:
    module, qualname = str(getattr(cls, "__module__", "")), cls.__qualname__
    if pattern in (cls.__name__, qualname, f"{module}.{qualname}"):
        return True
    # "httpx.ReadTimeout" names a class defined in httpx._exceptions: accept the package it is exported from.
    prefix = pattern.removesuffix("." + qualname)
    return prefix != pattern and module.startswith(prefix + ".")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One declarative rule: every criterion given (types, statuses, message) must match."""

    error_class: ErrorClass
    action: Action = "retry"
    types: tuple[str, ...] = ()
    statuses: tuple[int, ...] = ()
    message: re.Pattern[str] | None = None
    delay: float | None = None

    def __post_init__(self) -> None:
        if self.error_class not in ERROR_CLASSES:
            raise ValueError(f"unknown class {self.error_class!r} (one of {', '.join(ERROR_CLASSES)})")
        if self.action not in ACTIONS:
            raise ValueError(f"unknown action {self.action!r} (one of {', '.join(ACTIONS)})")
        if not (self.types or self.statuses or self.message):
            raise ValueError("a rule needs at least one of type, status, message")
        if self.delay is not None and not (math.isfinite(self.delay) and self.delay >= 0):
            raise ValueError(f"delay must be a finite number of seconds >= 0, got {self.delay!r}")

    def matches(self, exc: BaseException) -> bool:
        """True when the exception meets every criterion of this rule."""
        mro = type(exc).__mro__
        if self.types and not any(_type_matches(p, cls) for p in self.types for cls in mro):
            return False
        if self.statuses and http_status(exc) not in self.statuses:
            return False
        return self.message is None or self.message.search(error_message(exc)) is not None


_RULE_KEYS = ("type", "status", "message", "class", "action", "delay")
_EXPECTED = {"type": "a class name", "status": "an HTTP status"}


def _as_tuple(value: Any, kind: type, what: str) -> tuple[Any, ...]:
    items = value if isinstance(value, list | tuple) else [] if value is None else [value]
    for item in items:
        if not isinstance(item, kind) or isinstance(item, bool):
            raise ValueError(f"{what} must be {_EXPECTED[what]} or a list of them, got {item!r}")
    return tuple(items)


def _parse_rule(raw: Any) -> Rule:
    if not isinstance(raw, Mapping):
        raise ValueError(f"a rule must be a table, got {type(raw).__name__}")
    unknown = [key for key in raw if key not in _RULE_KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (expected some of {', '.join(_RULE_KEYS)})")
    if "class" not in raw:
        raise ValueError("missing 'class'")
    message, delay = raw.get("message"), raw.get("delay")
    if delay is not None and (isinstance(delay, bool) or not isinstance(delay, int | float)):
        raise ValueError(f"delay must be a number of seconds, got {delay!r}")
    try:
        pattern = re.compile(message) if message is not None else None
    except (re.error, TypeError) as exc:
        raise ValueError(f"bad message regex {message!r}: {exc}") from None
    return Rule(
        types=_as_tuple(raw.get("type"), str, "type"),
        statuses=_as_tuple(raw.get("status"), int, "status"),
        message=pattern,
        error_class=raw["class"],
        action=raw.get("action", "retry"),
        delay=None if delay is None else float(delay),
    )


class Policy:
    """Ordered declarative rules; the first rule that matches decides."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        """A policy from ``{"rules": [{"type": ..., "status": ..., "message": ..., "class": ...}]}``."""
        unknown = [key for key in data if key != "rules"]
        if unknown:
            raise ValueError(f"policy: unknown key {unknown[0]!r} (expected 'rules')")
        raw_rules = data.get("rules", [])
        if not isinstance(raw_rules, list):
            raise ValueError(f"policy: 'rules' must be a list of tables, got {type(raw_rules).__name__}")
        rules = []
        for index, raw in enumerate(raw_rules):
            try:
                rules.append(_parse_rule(raw))
            except ValueError as exc:
                raise ValueError(f"policy.rules[{index}]: {exc}") from None
        return cls(rules)

    @classmethod
    def from_toml(cls, path: str | os.PathLike[str]) -> Policy:
        """``[tool.jobq.policy]`` of a pyproject.toml, or ``[policy]`` of a jobq.toml; empty when absent."""
        path = Path(path)
        try:
            with path.open("rb") as fp:
                data = tomllib.load(fp)
            table = data.get("tool", {}).get("jobq", {}).get("policy", data.get("policy", {}))
            if not isinstance(table, Mapping):
                raise ValueError("policy: must be a table")
            return cls.from_dict(table)
        except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError too
            raise ValueError(f"{path}: {exc}") from None

    def decide(self, exc: BaseException, now: float) -> Decision | None:
        """The decision of the first matching rule, or None when no rule matches."""
        for rule in self.rules:
            if rule.matches(exc):
                delay = rule.delay
                if delay is None and rule.action == "retry":
                    delay = retry_after(exc, now)
                return Decision(rule.error_class, rule.action, delay)
        return None


class Classifier:
    """Decides what a failed attempt means: the declarative policy first, then the default table."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy

    def __call__(self, exc: BaseException, now: float) -> Decision:
        """A decision for ``exc``; never raises."""
        try:
            decision = self.policy.decide(exc, now) if self.policy is not None else None
            return decision if decision is not None else default_decision(exc, now)
        except BaseException:  # noqa: BLE001 - the failure path must go on whatever a pathological exception does
            return Decision("unknown", "retry")
