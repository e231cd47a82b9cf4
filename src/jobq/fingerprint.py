"""How a failed attempt is recorded and grouped: its type name, bounded message and traceback, fingerprint."""

from __future__ import annotations

import hashlib
import os
import re
import traceback

from jobq import errors

MESSAGE_LIMIT = 2000
TYPE_LIMIT = 300
"""The most of an error type's name kept (a generated class can have any name)."""


def storable_text(text: str, limit: int | None = None) -> str:
    """``text`` as every backend stores it, cut to ``limit`` characters: NUL and lone surrogates become U+FFFD.

    PostgreSQL text cannot hold NUL, and neither backend can encode a lone surrogate (an undecodable byte
    ``surrogateescape`` kept) as UTF-8; a failure must be recorded whatever text it carries.
    """
    text = str.__str__(text).replace("\x00", "\ufffd")
    if not text.isascii():
        # Through UTF-16, a surrogate pair becomes the character it stands for and a lone one U+FFFD.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text if limit is None else bounded(text, limit)


def error_type_name(cls: type[BaseException]) -> str:
    """A class's qualified name as stored: ``KeyError``, ``jobq.WorkerLost``, ``httpx.ReadTimeout``."""
    module, qualname = getattr(cls, "__module__", None), getattr(cls, "__qualname__", cls.__name__)
    if not isinstance(module, str) or module == "builtins":
        return storable_text(str(qualname), TYPE_LIMIT)
    if module == errors.__name__:
        return f"jobq.{qualname}"  # the name users import it by
    return storable_text(f"{module}.{qualname}", TYPE_LIMIT)


def _class_name(exc: BaseException) -> str:
    try:
        return storable_text(str(type(exc).__name__), TYPE_LIMIT)
    except BaseException:  # noqa: BLE001 - a metaclass can make even this raise
        return "<unknown type>"


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


# The handlers below catch BaseException: an exception's __str__, __repr__ or properties are user code, and one
# that raises SystemExit or KeyboardInterrupt must become part of the recorded failure, not stop the worker.


def error_message(exc: BaseException) -> str:
    """The exception's message as stored (bounded, storable); never raises, whatever ``__str__`` does."""
    try:
        return storable_text(str(exc), MESSAGE_LIMIT)  # storable_text makes a str subclass a plain str first
    except BaseException as failure:  # noqa: BLE001 - see above
        return f"<unprintable {_class_name(exc)}: str() raised {_class_name(failure)}>"


def _traceback(exc: BaseException, error_type: str, message: str, limit: int) -> str:
    try:
        return storable_text("".join(traceback.format_exception(exc)), limit)
    except BaseException:  # noqa: BLE001 - e.g. a chain too deep to walk: keep what is known rather than nothing
        return bounded(f"{error_type}: {message}\n(traceback could not be formatted)\n", limit)


def describe(exc: BaseException, *, limit: int = 8192) -> tuple[str, str, str]:
    """(error type, message, traceback) of an exception, bounded and storable on every backend; never raises."""
    try:
        error_type = error_type_name(type(exc))
    except BaseException:  # noqa: BLE001 - see above
        error_type = _class_name(exc)
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
    except BaseException:  # noqa: BLE001 - this must never raise, whatever the exception does
        return ""


def fingerprint(error_type: str, message: str, frame: str) -> str:
    """16 hex characters that group the same failure across jobs: type, normalised message, frame."""
    text = f"{error_type}\n{normalize_message(message)}\n{frame}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
