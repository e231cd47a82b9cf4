"""JSON-only payloads, and an error naming the offending value. Never pickle: a DLQ of pickles is an RCE.

One rule for every way a payload enters storage (enqueue from Python, the CLI or the API; import; replay with
an edited payload): plain JSON values, finite numbers, valid Unicode without NUL, at most ``MAX_DEPTH`` lists
and dicts deep in one argument and ``MAX_BYTES`` of JSON text. Every reader renders what the rule lets in;
``shown`` reads back whatever else a row may hold (an older version, a hand-written row) degraded, with a note.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from jobq.errors import PayloadError
from jobq.job import Payload

MAX_DEPTH = 64
"""Lists and dicts one argument may nest. Readers (API, dashboard, CLI, export, redaction) recurse per level:
64 leaves them ample stack, where the ~495 levels the old recursion guard let in broke every page."""
MAX_BYTES = 1024 * 1024
"""The largest payload, as UTF-8 JSON text: 1 MiB. A page shows it, an export line holds it, a replay copies it;
bigger data belongs in a blob store, with its address in the payload."""
MAX_STORED_DEPTH = MAX_DEPTH + 2
"""The same limit counted from the stored document, whose ``{"args": [...], "kwargs": {...}}`` adds two levels."""
MAX_INT_DIGITS = 4300
"""Python's own limit on turning an int into text (``sys.get_int_max_str_digits``) and back."""
SHOWN_CHARS = 300
"""How much of an unreadable stored payload's text a degraded read keeps for people to look at."""

EXCERPT = "; its stored text begins: "
"""What comes before the stored text in a degraded read's note (redaction cuts the note there)."""

_ALLOWED = "pass JSON values only (str, int, float, bool, None, list, dict)"
_INT_LIMIT = 10**MAX_INT_DIGITS


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


def _too_deep() -> NoReturn:
    raise _NotJson(f"is nested too deeply or contains itself (the limit is {MAX_DEPTH} lists and dicts deep)")


def _plain(value: Any, level: int) -> Any:
    """``value`` as plain JSON data (tuples → lists), or _NotJson; ``level``: the lists and dicts around it."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # text and int limits are checked once on the encoded text: cheaper than per value
    if kind is float:
        if math.isfinite(value):
            return value
        raise _NotJson(f"is {value!r} (float); JSON has no NaN or infinity")
    if kind is dict:
        return _plain_dict(value, level + 1)
    if kind is list or kind is tuple:
        return _plain_list(value, level + 1)
    return _plain_subclass(value, level)


def _plain_subclass(value: Any, level: int) -> Any:
    # Enums on str/int (StrEnum, IntEnum) and dict/list subclasses serialise as their base JSON type;
    # storing the base value keeps what a worker reads back equal to what json would have written.
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int.__index__(value)
    if isinstance(value, float):
        return _plain(float.__float__(value), level)
    if isinstance(value, dict):
        return _plain_dict(value, level + 1)
    if isinstance(value, list | tuple):
        return _plain_list(value, level + 1)
    _not_json(value)


def _plain_list(value: Sequence[Any], level: int) -> list[Any]:
    if level > MAX_DEPTH:
        _too_deep()
    out = []
    for index, item in enumerate(value):
        try:  # free in 3.11 unless something raises
            out.append(_plain(item, level))
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


def _plain_dict(value: Mapping[Any, Any], level: int) -> dict[str, Any]:
    if level > MAX_DEPTH:
        _too_deep()
    out = {}
    for key, item in value.items():
        name = key if type(key) is str else _plain_key(key)
        try:
            out[name] = _plain(item, level)
        except _NotJson as err:
            err.path.append(f"[{name!r}]")
            raise
    return out


def _where(root: str, path: list[str]) -> str:
    """``root`` and the path innermost-last, shortened to one readable line when it is very deep."""
    steps = list(reversed(path))
    if len(steps) > 12:
        steps = [*steps[:6], f"…({len(steps) - 9} more)…", *steps[-3:]]
    return root + "".join(" ".join(step.split())[:80] for step in steps)


def _error(root: str, err: _NotJson) -> PayloadError:
    return PayloadError(f"payload is not JSON: {_where(root, err.path)} {err.problem}")


def build(args: Sequence[Any], kwargs: Mapping[str, Any]) -> Payload:
    """``{"args": [...], "kwargs": {...}}`` checked against the payload rule; PayloadError names a bad value."""
    return encode(args, kwargs)[0]


def encode(args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Payload, str]:
    """The payload checked against the rule, and its JSON text to store (encoded once, here)."""
    # The usual shapes first: ABC isinstance checks cost more than the rest of a small payload's walk.
    if type(args) in (tuple, list) and type(kwargs) is dict:
        pass
    elif isinstance(args, str | bytes) or not isinstance(args, Sequence):
        raise PayloadError(f"payload is not JSON: args must be a list or tuple, not {_type_name(args)}")
    if not isinstance(kwargs, Mapping):
        raise PayloadError(f"payload is not JSON: kwargs must be a dict, not {_type_name(kwargs)}")
    root = "args"
    try:
        plain_args = _plain_list(args, 0)
        root = "kwargs"
        plain_kwargs = _plain_dict(kwargs, 0)
    except _NotJson as err:
        raise _error(root, err) from None
    except RecursionError:  # only when called with the stack nearly full already
        raise PayloadError(f"payload is not JSON: {root} is nested too deeply or contains itself") from None
    payload = {"args": plain_args, "kwargs": plain_kwargs}
    return payload, _checked_text(payload)


def accept(value: object) -> tuple[Payload, str]:
    """A whole payload from outside (an import, an edited replay, a request): checked, with its JSON text."""
    if not isinstance(value, Mapping):
        raise PayloadError(f'payload is not JSON: it must be an object {{"args": [...], "kwargs": {{...}}}}, '
                           f"not {_type_name(value)}")  # fmt: skip
    extra = sorted(str(key) for key in value if key not in ("args", "kwargs"))
    if extra:
        raise PayloadError(f"payload is not JSON: unexpected key {extra[0]!r} (expected 'args' and 'kwargs')")
    args, kwargs = value.get("args", []), value.get("kwargs", {})
    if not isinstance(args, list | tuple):
        raise PayloadError(f"payload is not JSON: args must be a list, not {_type_name(args)}")
    return encode(args, kwargs)


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
# CPython's C encoder made once (``encode`` makes one per call). No cycle check: only payloads already walked
# are encoded, and a cycle fails the walk's depth limit.
_c_encode: Any = _make_c_encoder and _make_c_encoder(
    None, _encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, False
)


def _encode(payload: Payload) -> str:
    return "".join(_c_encode(payload, 0)) if _c_encode else _encoder.encode(payload)


_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
"""``\\u0000`` in JSON text that is not an escaped backslash followed by ``u0000``."""


def _checked_text(payload: Payload) -> str:
    """The JSON text of a plain payload, after the checks best made on text: Unicode, NUL, int size, bytes."""
    try:
        text = _encode(payload)
    except ValueError:  # an int beyond Python's text conversion limit
        raise _located(payload, _huge_int, f"is an int of more than {MAX_INT_DIGITS} digits") from None
    if text.isascii():
        size = len(text)
    else:
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise _located(payload, _has_surrogate, "holds a lone surrogate, which is not valid Unicode") from None
    if size > MAX_BYTES:
        raise PayloadError(
            f"payload is too large: {size:,} bytes of JSON, more than the limit of {MAX_BYTES:,} (1 MiB); "
            "store big data elsewhere and pass its address"
        )
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise _located(payload, _has_nul, "holds a NUL character (U+0000), which PostgreSQL text cannot store")
    return text


def _has_surrogate(value: object) -> bool:
    return isinstance(value, str) and any("\ud800" <= char <= "\udfff" for char in value)


def _has_nul(value: object) -> bool:
    return isinstance(value, str) and "\x00" in value


def _huge_int(value: object) -> bool:
    return type(value) is int and not -_INT_LIMIT < value < _INT_LIMIT


def _located(payload: Payload, bad: Any, problem: str) -> PayloadError:
    """The error for the first value (or key) for which ``bad`` holds, found by a walk (the rare path)."""
    for root in ("args", "kwargs"):
        path = _find(payload[root], bad)
        if path is not None:
            return PayloadError(f"payload is not JSON: {_where(root, path)} {problem}")
    return PayloadError(f"payload is not JSON: it {problem}")


def _find(value: Any, bad: Any) -> list[str] | None:
    """The path (innermost first) to the first value or key of ``value`` for which ``bad`` holds."""
    if bad(value):
        return []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        step = f"[{key!r}]" if isinstance(key, str) else f"[{key}]"
        if bad(key):
            return [step]
        found = _find(item, bad)
        if found is not None:
            return [*found, step]
    return None


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
    except RecursionError:
        raise PayloadError("stored payload is nested too deeply to decode") from None
    except (TypeError, ValueError) as exc:
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


def shown(stored: object) -> tuple[Payload, str | None]:
    """A stored payload for reading, whatever the row holds: the payload and None, or an empty one and a note.

    Never raises: text nested deeper than ``MAX_STORED_DEPTH``, larger than ``MAX_BYTES``, not JSON, with NaN or
    infinity, or of the wrong shape (an older version, a row written by hand) comes back empty, with a
    one-line note saying why, with the start of the stored text.
    """
    text = stored if isinstance(stored, str) else None
    try:
        return _readable(stored), None
    except PayloadError as exc:
        excerpt = "" if text is None else " ".join(text[:SHOWN_CHARS].split()) + "…" * (len(text) > SHOWN_CHARS)
        note = f"payload could not be shown: {exc}"
        return {"args": [], "kwargs": {}}, note + (f"{EXCERPT}{excerpt}" if excerpt else "")


def _readable(stored: object) -> Payload:
    if isinstance(stored, str):
        if len(stored) > MAX_BYTES:
            raise PayloadError(f"{len(stored):,} characters, more than the {MAX_BYTES:,}-byte limit")
        payload = loads(stored)
    elif isinstance(stored, dict):
        payload = loads(dumps(stored))
    else:
        raise PayloadError(f"stored as {_type_name(stored)}, not JSON text")
    problem = _beyond_rule(payload)
    if problem:
        raise PayloadError(problem)
    return payload


def _beyond_rule(payload: Payload) -> str | None:
    """What in a decoded payload no reader could show (too deep, NaN or infinity), without recursion."""
    pending: list[tuple[Any, int]] = [(payload, 1)]
    while pending:
        value, level = pending.pop()
        if type(value) is float and not math.isfinite(value):
            return f"it holds {value!r}, which JSON has no way to write"
        if isinstance(value, dict | list):
            if level > MAX_STORED_DEPTH:
                return f"nested deeper than {MAX_DEPTH} lists and dicts"
            items = value.values() if isinstance(value, dict) else value
            pending.extend((item, level + 1) for item in items)
    return None


# -- return values: the same rule as payloads, kept as the value's own JSON text --------------------------------


def encode_result(value: object) -> str | None:
    """A handler's return value as JSON text to store (None for None); PayloadError names a value that is not JSON."""
    if value is None:
        return None
    try:
        payload, _text = encode([value], {})
    except PayloadError as exc:
        said = str(exc).replace("payload is not JSON: ", "", 1).replace("args[0]", "the value", 1)
        raise PayloadError(f"return value is not JSON: {said}") from None
    return _encode(payload["args"][0])


def result_from_text(text: str | None) -> Any:
    """A stored return value back as a JSON value (None when none was kept, or the text is not JSON)."""
    if text is None:
        return None
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except (TypeError, ValueError, RecursionError):
        return None  # a row written by hand: shown as nothing rather than failing every read of the job
