"""Finding PII in free text: e-mail addresses, phone numbers, card numbers and secrets, as spans to replace.

Speed matters (redaction runs on every API response), so no detector scans a whole string with a regular
expression — on CPython that costs 10-30 ns a character. C-level ``bytes.find`` on a translated copy finds
the few places worth a look (an ``@``, a ``+``, a run of digits, a long run of token characters, a
``password``), and a regular expression checks only there. No pattern here spans a line break.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import partial
from itertools import pairwise
from typing import Final

EMAIL: Final = "[redacted email]"
PHONE: Final = "[redacted phone]"
CARD: Final = "[redacted card]"
TOKEN: Final = "[redacted token]"

BUILTIN_VALUES: tuple[str, ...] = ("email", "phone", "card", "token")
"""The built-in text detectors, by name; ``token`` covers bearer tokens, long secrets and ``password=`` pairs."""

# Each detector finds (start, end, marker) spans in ``text``; ``raw`` is ``text`` encoded one byte per character
# (non-ASCII → "?"), so that byte offsets are character offsets.

Span = tuple[int, int, str]
"""(start, end, marker): characters ``start:end`` of a text become ``marker``."""
Detector = Callable[[str, bytes, list[Span]], None]


def _table(mapping: Mapping[bytes, bytes], default: bytes) -> bytes:
    table = bytearray(default * 256)
    for chars, mark in mapping.items():
        for char in chars:
            table[char] = mark[0]
    return bytes(table)


_DIGITS = b"0123456789"
_LETTERS = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOCAL_MARKS = _table({_DIGITS + _LETTERS + b"._%+-": b"a"}, b" ")
_TOKEN_MARKS = _table({_DIGITS + _LETTERS + b"+/_-": b"a"}, b" ")
_DIGIT_ONLY = _table({_DIGITS: b"0"}, b"x")
_DIGIT_REGIONS = _table({_DIGITS: b"0", b" ().-": b"s"}, b"x")
_PHONE_SEPARATORS = b" ().-"

_EMAIL = re.compile(r"[\w.%+-]{1,64}(?:@|%40)[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])")


def _emails(text: str, raw: bytes, spans: list[Span]) -> None:
    marks = b""
    for anchor in (b"@", b"%40"):  # "%40": an address in a URL's query string
        at = raw.find(anchor)
        while at != -1:
            marks = marks or raw.translate(_LOCAL_MARKS)
            start = marks.rfind(b" ", 0, at) + 1  # the local part runs back to the first character it cannot hold
            found = _EMAIL.match(text, max(start, at - 64), at + 300)
            if found is not None and found.end() > at:
                spans.append((found.start(), found.end(), EMAIL))
                at = raw.find(anchor, found.end())
            else:
                at = raw.find(anchor, at + 1)


_E164 = re.compile(r"(?:\+|%2[Bb])(\d(?:[ ().-]{0,2}\d){6,16})(?!\d)")


def _international_phones(text: str, raw: bytes, spans: list[Span]) -> None:
    for anchor in (b"+", b"%2B", b"%2b"):  # "%2B": a number in a URL's query string
        plus = raw.find(anchor)
        while plus != -1:
            found = _E164.match(text, plus)
            before = text[plus - 1] if plus else " "
            if found and not (before.isalnum() or before in "_+") and _is_phone("+" + found.group(1), low=7):
                spans.append((found.start(), found.end(), PHONE))
                plus = raw.find(anchor, found.end())
            else:
                plus = raw.find(anchor, plus + 1)


_NUMBER = re.compile(r"(?<![\w.+/\\-])\(?\d[\d ().-]*\d(?![\w]|[.-]\d)")
_DATE = re.compile(r"(?<![\d.-])(?:\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{4})(?![\d.-])")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")


def _numbers(text: str, raw: bytes, spans: list[Span], *, cards: bool = True, phones: bool = True) -> None:
    """Card numbers and phone numbers written with separators; one look at each long run of digits."""
    if spans:  # what is found already (an international number, a secret) needs no second look
        masked = bytearray(raw)
        for start, end, _ in spans:
            masked[start:end] = b"x" * (end - start)
        raw = bytes(masked)
    # Cheap first: are there 8 digits in a row once separators are dropped? Most tracebacks have not.
    if b"00000000" not in raw.translate(_DIGIT_ONLY, _PHONE_SEPARATORS):
        return
    regions = raw.translate(_DIGIT_REGIONS)
    pair = regions.find(b"00")
    while pair != -1:
        start = regions.rfind(b"x", 0, pair) + 1
        end = regions.find(b"x", pair)
        end = len(regions) if end == -1 else end
        if regions.count(b"0", start, end) >= 8:
            # The look-ahead must see the character that ends the run, so the window takes it in.
            for found in _NUMBER.finditer(text, start, min(end + 1, len(text))):
                span = _classify_number(found.group(), found.start())
                if span is not None and (cards if span[2] == CARD else phones):
                    spans.append(span)
        pair = regions.find(b"00", end)


def _classify_number(candidate: str, offset: int) -> Span | None:
    if _is_card(candidate):
        return offset, offset + len(candidate), CARD
    if _is_phone(candidate, low=8):
        return offset, offset + len(candidate), PHONE
    parts = candidate.split(" ")
    if not 1 < len(parts) <= 8:
        return None
    # "2024-01-15 555-010-1234" runs a date into a phone number: try the longest runs of whole parts.
    starts = [0]
    for part in parts[:-1]:
        starts.append(starts[-1] + len(part) + 1)
    for size in range(len(parts) - 1, 0, -1):
        for first in range(len(parts) - size + 1):
            piece = " ".join(parts[first : first + size])
            begin = offset + starts[first]
            if _is_card(piece):
                return begin, begin + len(piece), CARD
            if _is_phone(piece, low=8):
                return begin, begin + len(piece), PHONE
    return None


_NOT_DIGITS = str.maketrans("", "", " ().-+")


def _digit_count(candidate: str) -> int:
    """The digits of a candidate number (which holds nothing but digits and separators)."""
    return len(candidate.translate(_NOT_DIGITS))


def _is_phone(candidate: str, *, low: int) -> bool:
    """Whether grouped digits read as a phone number rather than a date, an address, a float or a count."""
    digits = _digit_count(candidate)
    if not low <= digits <= 15:
        return False
    body = candidate[1:] if candidate.startswith("+") else candidate
    if len(body) == digits:
        return body is not candidate  # "+15550001111"; a bare run of digits is an id, a count or a timestamp
    if _DATE.search(body) is not None:
        return False
    if "." in body and not body.strip("0123456789."):  # a float, an IPv4 address, a version, 12.345.678
        groups = body.split(".")
        ipv4 = len(groups) == 4 and all(len(group) <= 3 for group in groups)
        return len(groups) >= 3 and not ipv4 and not _THOUSANDS.fullmatch(body)
    return True


def _is_card(candidate: str) -> bool:
    """13 to 19 digits from a card network (2-6), optionally grouped, that pass the Luhn check."""
    digits = candidate.replace(" ", "").replace("-", "")
    if not (13 <= len(digits) <= 19 and digits.isdigit() and digits[0] in "23456"):
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


_RUN = b"a" * 24
_HEX_SECRET = re.compile(r"(?=[a-fA-F]*\d)(?=\d*[a-fA-F])[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SEGMENTS = re.compile(r"[/_-]")
_WORD = re.compile(r"[a-z]{3,}|[A-Z][a-z]{2,}|[A-Z]{3,}")


def _tokens(text: str, raw: bytes, spans: list[Span]) -> None:
    if len(raw) < 24:
        return
    marks = raw.translate(_TOKEN_MARKS)
    hit = marks.find(_RUN)
    while hit != -1:
        start = marks.rfind(b" ", 0, hit) + 1
        end = marks.find(b" ", hit)
        if end == -1:
            end = len(marks)
        run = text[start:end]
        # One case only (paths, names, ULIDs, CONSTANTS): a secret only when it is hex. Most runs stop here.
        if _HEX_SECRET.fullmatch(run) if run.islower() or run.isupper() else _is_secret(run):
            padding = len(text[end : end + 2]) - len(text[end : end + 2].lstrip("="))  # base64's trailing "="
            spans.append((start, end + padding, TOKEN))
        hit = marks.find(_RUN, end)


_HEX_DIGITS = frozenset("0123456789abcdef")
_HEX_DIGITS_UPPER = frozenset("0123456789ABCDEF")
# Words in CamelCase with short numbers (Http2ConnectionNotAvailable): a name, not a secret. Atomic
# groups and possessive repeats keep the match linear on any input.
_CAMEL_WORDS = re.compile(r"(?>[A-Z]*+[a-z]{2,}+|[A-Z]{2,}+|[0-9]{1,4}+)++")


def _random_looking(chars: str) -> bool:
    if not any(char.isdigit() for char in chars):
        return False
    if _HEX_DIGITS.issuperset(chars) or _HEX_DIGITS_UPPER.issuperset(chars):
        return any(not char.isdigit() for char in chars)
    has_case = any(char.islower() for char in chars) and any(char.isupper() for char in chars)
    return has_case and _CAMEL_WORDS.fullmatch(chars) is None


def _is_secret(run: str) -> bool:
    """A long run of token characters that looks random (hex, or mixed case with digits), not a path or name."""
    if _UUID.fullmatch(run):
        return False
    segments = _SEGMENTS.split(run)
    if any(len(segment) >= 16 and _random_looking(segment) for segment in segments):
        return True  # sk_live_<secret>, ghp_<secret>
    if len(segments) > 1 and any(_WORD.fullmatch(segment) for segment in segments):
        return False  # site-packages/httpx/_client, test_Expired_lease_Returns_job2
    return _random_looking("".join(segments))


_PAIR_VALUE = (
    r"""["']?[ \t]*[=:][ \t]*(?:"(?P<double>[^"\n]{1,4096})"|'(?P<single>[^'\n]{1,4096})'"""
    r"""|(?P<bare>(?:(?i:bearer|basic|token)[ \t]+)?[^\s,;&'"<>()\[\]{}]{1,4096}))"""
)
_SCHEME_VALUE = r"[ \t]+(?P<bare>[A-Za-z0-9._~+/-]{8,4096}=*)"
_URL_PASSWORD = r"[^\s/:@]{1,256}:(?P<bare>[^\s/@]{1,256})@"
# (anchor, what must follow it): the anchor is looked for with one bytes.find (C speed) in the lowered text,
# the rest of the key and the value with a regular expression there only.
# A scheme's value is refused when it is a plain lowercase word: "Basic authentication failed".
_CONTEXTS: tuple[tuple[bytes, re.Pattern[str], bool], ...] = tuple(
    (anchor, re.compile(rest, re.IGNORECASE), rest is _SCHEME_VALUE)
    for anchor, rest in (
        (b"passw", "(?:or)?d" + _PAIR_VALUE), (b"pwd", _PAIR_VALUE), (b"secret", _PAIR_VALUE),
        (b"token", _PAIR_VALUE), (b"api", "[_-]?key" + _PAIR_VALUE),
        (b"bearer", _SCHEME_VALUE), (b"basic", _SCHEME_VALUE), (b"://", _URL_PASSWORD),
    )
)  # fmt: skip


def _secrets_in_context(text: str, raw: bytes, spans: list[Span]) -> None:
    """``password=...``, ``"token": "..."``, ``Bearer ...``, ``scheme://user:password@host``: the value only."""
    lower = raw.lower()
    for anchor, pattern, scheme in _CONTEXTS:
        at = lower.find(anchor)
        while at != -1:
            found = pattern.match(text, at + len(anchor))
            after = at + len(anchor)
            if found is not None and found.lastgroup is not None:
                start, end = found.span(found.lastgroup)
                if not (scheme and text[start:end].isalpha() and text[start:end].islower()):
                    spans.append((start, end, TOKEN))
                    after = end  # what the value holds is hidden already: look for the next key past it
            at = lower.find(anchor, after)


def builtin_detectors(names: frozenset[str]) -> tuple[Detector, ...]:
    """The detectors for the named built-ins, in priority order: where spans overlap, the first found wins."""
    detectors: list[Detector] = []
    if "token" in names:
        detectors.append(_secrets_in_context)  # password=..., Bearer ...: the context says what it is
    if "phone" in names:
        detectors.append(_international_phones)
    if names & {"card", "phone"}:
        detectors.append(partial(_numbers, cards="card" in names, phones="phone" in names))
    if "email" in names:
        detectors.append(_emails)
    if "token" in names:
        detectors.append(_tokens)
    return tuple(detectors)


def apply_spans(text: str, spans: list[Span]) -> str:
    """``text`` with non-overlapping spans replaced; earlier entries of ``spans`` win an overlap."""
    taken = sorted(spans)
    if any(later[0] < earlier[1] for earlier, later in pairwise(taken)):
        taken = []  # overlaps (rare): keep the first found of each, whatever its position
        for span in spans:
            if all(span[1] <= start or span[0] >= end for start, end, _ in taken):
                taken.append(span)
        taken.sort()
    pieces: list[str] = []
    position = 0
    for start, end, marker in taken:
        pieces += (text[position:start], marker)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
