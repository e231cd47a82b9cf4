"""JSON-only payloads, and an error naming the offending value. Never pickle: a DLQ of pickles is an RCE."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from jobq.errors import PayloadError
from jobq.job import Payload

_ALLOWED = "pass JSON values only (str, int, float, bool, None, list, dict)"


class _NotJson(Exception):
    """Raised deep in the walk; the path is collected while it unwinds, so the happy path builds none."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str] = []  # innermost first


def _type_name(value: object) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _shown(value: object) -> str:
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - this must never raise, whatever the exception does
        return "unprintable"
    text = " ".join(text.split())  # one line, whatever the value prints
    return text if len(text) <= 60 else text[:57] + "..."


def _not_json(value: object) -> NoReturn:
    name = _type_name(value)
    article = "an" if name[:1].lower() in "aeio" else "a"
    raise _NotJson(f"is {article} {name} ({_shown(value)}); {_ALLOWED}")


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data (tuples → lists), or _NotJson."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        raise _NotJson(f"is {value!r} (float); JSON has no NaN or infinity")
    if kind is dict:
        return _plain_dict(value)
    if kind is list or kind is tuple:
        return _plain_list(value)
    return _plain_subclass(value)


def _plain_subclass(value: Any) -> Any:
    # Enums on str/int (StrEnum, IntEnum) and dict/list subclasses serialise as their base JSON type;
    # storing the base value keeps what a worker reads back equal to what json would have written.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    if isinstance(value, float):
        return _plain(float.__float__(value))
    if isinstance(value, dict):
        return _plain_dict(value)
    if isinstance(value, list | tuple):
        return _plain_list(value)
    _not_json(value)


def _plain_list(value: Sequence[Any]) -> list[Any]:
    out = []
    for index, item in enumerate(value):
        try:  # free in 3.11 unless something raises
            out.append(_plain(item))
        except _NotJson as err:
            err.path.append(f"[{index}]")
            raise
    return out


def _plain_key(key: Any) -> str:
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    raise _NotJson(f"has a non-str key {_shown(key)} ({_type_name(key)}); JSON object keys must be str")


def _plain_dict(value: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for key, item in value.items():
        name = key if type(key) is str else _plain_key(key)
        try:
            out[name] = _plain(item)
        except _NotJson as err:
            err.path.append(f"[{name!r}]")
            raise
    return out


def _error(root: str, err: _NotJson) -> PayloadError:
    return PayloadError(f"payload is not JSON: {root}{''.join(reversed(err.path))} {err.problem}")


def build(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Payload:
    """``{"args": [...], "kwargs": {...}}`` checked to be plain JSON; PayloadError names a bad value."""
    # The usual shapes first: ABC isinstance checks cost more than the rest of a small payload's walk.
    if type(args) in (tuple, list) and type(kwargs) is dict:
        pass
    elif isinstance(args, str | bytes) or not isinstance(args, Sequence):
        raise PayloadError(f"payload is not JSON: args must be a list or tuple, not {_type_name(args)}")
    if not isinstance(kwargs, Mapping):
        raise PayloadError(f"payload is not JSON: kwargs must be a dict, not {_type_name(kwargs)}")
    root = "args"
    try:
        plain_args = _plain_list(args)
        root = "kwargs"
        plain_kwargs = _plain_dict(kwargs)
    except _NotJson as err:
        raise _error(root, err) from None
    except RecursionError:
        raise PayloadError(f"payload is not JSON: {root} is nested too deeply or contains itself") from None
    return {"args": plain_args, "kwargs": plain_kwargs}


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode


def dumps(payload: Payload) -> str:
    """The payload as compact JSON text (UTF-8 kept as is, NaN refused)."""
    try:
        return _encode(payload)
    except (TypeError, ValueError, RecursionError) as exc:
        raise PayloadError(f"payload is not JSON: {exc}") from None


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def loads(text: str) -> Payload:
    """A stored payload back as ``{"args": [...], "kwargs": {...}}``; PayloadError when it is malformed."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (TypeError, ValueError, RecursionError) as exc:
        raise PayloadError(f"stored payload is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError(f"stored payload must be a JSON object, got {_type_name(data)}")
    extra = sorted(key for key in data if key not in ("args", "kwargs"))
    if extra:
        raise PayloadError(f"stored payload has unexpected key {extra[0]!r} (expected 'args' and 'kwargs')")
    args, kwargs = data.get("args", []), data.get("kwargs", {})
    if not isinstance(args, list):
        raise PayloadError(f"stored payload 'args' must be a JSON array, got {_type_name(args)}")
    if not isinstance(kwargs, dict):
        raise PayloadError(f"stored payload 'kwargs' must be a JSON object, got {_type_name(kwargs)}")
    return {"args": args, "kwargs": kwargs}
