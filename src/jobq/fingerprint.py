"""How a failed attempt is recorded and grouped: its type name, bounded message and traceback, fingerprint."""

from __future__ import annotations

import hashlib
import os
import re
import traceback

from jobq import errors

MESSAGE_LIMIT = 2000


def error_type_name(cls: type[BaseException]) -> str:
    """A class's qualified name as stored: ``KeyError``, ``jobq.WorkerLost``, ``httpx.ReadTimeout``."""
    module, qualname = getattr(cls, "__module__", None), getattr(cls, "__qualname__", cls.__name__)
    if not isinstance(module, str) or module == "builtins":
        return str(qualname)
    if module == errors.__name__:
        return f"jobq.{qualname}"  # the name users import it by
    return f"{module}.{qualname}"


def _marker(cut: int) -> str:
    return f"\n… [{cut} characters cut] …\n"


def bounded(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, keeping its head and its tail around a marker."""
    if len(text) <= limit:
        return text
    cut = len(text) - limit
    # The marker takes room too, and its length depends on the number it shows.
    while len(text) - cut + len(_marker(cut)) > limit:
        cut = len(text) - limit + len(_marker(cut))
    keep = len(text) - cut
    if keep < 2:
        return text[: max(limit, 0)]
    return text[: keep // 2] + _marker(cut) + text[len(text) - (keep - keep // 2) :]


def error_message(exc: BaseException) -> str:
    try:
        # str.__str__ turns a str subclass (whose methods could misbehave too) into a plain str.
        return bounded(str.__str__(str(exc)), MESSAGE_LIMIT)
    except Exception:  # noqa: BLE001 - this must never raise, whatever the exception does
        return f"<unprintable {type(exc).__name__}>"


def _traceback(exc: BaseException, error_type: str, message: str, limit: int) -> str:
    try:
        return bounded("".join(traceback.format_exception(exc)), limit)
    except Exception:  # noqa: BLE001 - e.g. a chain too deep to walk: keep what is known rather than nothing
        return bounded(f"{error_type}: {message}\n(traceback could not be formatted)\n", limit)


def describe(exc: BaseException, *, limit: int = 8192) -> tuple[str, str, str]:
    """(error type, message, traceback) of an exception, bounded in size; never raises."""
    try:
        error_type = error_type_name(type(exc))
    except Exception:  # noqa: BLE001 - this must never raise, whatever the exception does
        error_type = "<unknown type>"
    message = error_message(exc)
    return error_type, message, _traceback(exc, error_type, message, limit)


_HEX = r"[0-9a-fA-F]"
_GROUPS = rf"(?:{_HEX}{{1,4}}(?::{_HEX}{{1,4}})*)?"
_IPV6 = rf"(?:{_HEX}{{1,4}}:){{7}}{_HEX}{{1,4}}|{_GROUPS}::{_GROUPS}"
# Order matters: each pattern runs on the output of the previous ones (a uuid is also hex and digits).
_NORMALIZERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), placeholder)
    for pattern, placeholder in (
        (rf"\b{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\b", "<uuid>"),
        (r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b", "<ts>"),
        (r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "<email>"),  # the look-behind keeps it linear
        (r"(?<=[a-zA-Z0-9/])\?[^\s'\"#]+", "?<query>"),
        (rf"\[(?:{_IPV6})\](?::\d+)?|(?<![\w:.])(?:{_IPV6})(?![\w:])", "<ip>"),
        (r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])", "<ip>"),
        (r"\+\d[\d ().-]{5,}\d", "<n>"),
        # A hex id shares the number placeholder: a random one is sometimes all digits, and the same
        # failure must not split into two groups on that chance.
        (rf"\b0[xX]{_HEX}+\b|\b(?={_HEX}*[a-fA-F])(?={_HEX}*\d){_HEX}{{8,}}\b", "<n>"),
        (r"(?<!\w)'[^'\n]*'(?!\w)|\"[^\"\n]*\"", "<str>"),
        (r"\d+(?:\.\d+)?", "<n>"),
        (r"\s+", " "),
    )
)


def normalize_message(message: str) -> str:
    """A message with its variable parts (ids, numbers, addresses, quoted values) replaced by placeholders."""
    text = message[: MESSAGE_LIMIT * 2]  # bounds the regex work; the tail rarely tells failures apart
    for pattern, placeholder in _NORMALIZERS:
        text = pattern.sub(placeholder, text)
    return text.strip()[:500]


def failing_frame(exc: BaseException) -> str:
    """``module:function`` of the innermost frame (no line number: lines move between deploys)."""
    try:
        tb = exc.__traceback__
        if tb is None:
            return ""
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        module = tb.tb_frame.f_globals.get("__name__")
        if not isinstance(module, str):
            module = os.path.splitext(os.path.basename(code.co_filename))[0]
        return f"{module}:{code.co_qualname}"
    except Exception:  # noqa: BLE001 - this must never raise, whatever the exception does
        return ""


def fingerprint(error_type: str, message: str, frame: str) -> str:
    """16 hex characters that group the same failure across jobs: type, normalised message, frame."""
    text = f"{error_type}\n{normalize_message(message)}\n{frame}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
