"""The Redactor: which payload fields to hide, which text detectors to run, and applying both to values,
texts, dead letters and records. Pure: no I/O; its only state is its compiled configuration and caches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from jobq.errors import JobqError
from jobq.job import AttemptError, DeadLetter, Job
from jobq.payload import EXCERPT
from jobq.redact.detectors import BUILTIN_VALUES, Detector, Span, apply_spans, builtin_detectors

REDACTED: Final = "[redacted]"

DEFAULT_KEYS: tuple[str, ...] = (
    "phone", "mobile", "msisdn", "e_?mail", "passw(?:or)?d", "pass_?phrase", "secret", "api_?key", "private_?key",
    "token(?!s|_?(?:count|type|usage|limit))", "authori[sz]ation", "credential", "cookie",
    "session(?!s|_?(?:count|length|timeout|type|limit))",
    "(?<!dis)(?<!wild)card(?!inal)", "cvv", "cvc", "iban", "(?<![a-z])ssn(?![a-z])", "(?<![a-z])otp(?![a-z])",
)  # fmt: skip
"""Payload key patterns: regular expressions searched, ignoring case, in the key and in its ``normal_key`` form."""


TEXT_FIELDS: tuple[str, ...] = ("error_message", "error_traceback", "message", "traceback", "sample_message", "note")
"""Fields of records (``jobq.serialize`` key names) whose text ``Redactor.record`` scrubs."""

_CACHE_SIZE = 256
_CACHE_MAX_TEXT = 16_384
_LINE_CACHE_SIZE = 8192
_LINE_CACHE_MAX_LINE = 256
_LINEWISE_FROM = 256


@dataclass(frozen=True)
class ValuePattern:
    """A user's regular expression for free text; a match becomes ``[redacted <name>]`` (``[redacted]`` unnamed)."""

    pattern: str
    name: str = ""

    @property
    def marker(self) -> str:
        """What a match is replaced by."""
        return f"[redacted {self.name}]" if self.name else REDACTED


# -- key names ------------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def normal_key(key: str) -> str:
    """A field name as key patterns see it: ``apiKey``, ``API-Key``, ``api key`` → ``api_key``."""
    return _NOT_ALNUM.sub("_", _CAMEL.sub("_", key).lower()).strip("_")


# -- the redactor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Redactor:
    """Hides payload values under sensitive keys, and PII in any text, in copies of values and records.

    >>> r = Redactor(allow=["phone_country"])
    >>> r.payload({"phone": "+15550001111", "phone_country": "US", "note": "mail bob@example.com"})
    {'phone': '[redacted]', 'phone_country': 'US', 'note': 'mail [redacted email]'}
    """

    keys: Sequence[str] = DEFAULT_KEYS
    """Key patterns (regular expressions searched, ignoring case, in a field's name and in its ``normal_key``);
    the values of matching fields are hidden whole."""
    values: Sequence[str | ValuePattern] = BUILTIN_VALUES
    """Text detectors: names from ``BUILTIN_VALUES`` and user ``ValuePattern``s."""
    allow: Sequence[str] = ()
    """Field names (any depth, compared in normal form) whose values are never redacted."""
    enabled: bool = True

    _key_pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _allowed: frozenset[str] = field(init=False, repr=False, compare=False)
    _detectors: tuple[Detector, ...] = field(init=False, repr=False, compare=False)
    _custom: tuple[tuple[re.Pattern[str], str], ...] = field(init=False, repr=False, compare=False)
    _verdicts: dict[str, bool | None] = field(init=False, repr=False, compare=False)
    _texts: dict[str, str] = field(init=False, repr=False, compare=False)
    _lines: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys, values, allow = tuple(self.keys), tuple(self.values), tuple(self.allow)
        unknown = [value for value in values if isinstance(value, str) and value not in BUILTIN_VALUES]
        if unknown:
            raise JobqError(f"unknown redaction detector {unknown[0]!r}: expected one of {', '.join(BUILTIN_VALUES)}")
        for name, value in (("keys", keys), ("values", values), ("allow", allow)):
            object.__setattr__(self, name, value)
        for key in keys:
            _compile(key, re.IGNORECASE)  # each alone first, so that an error names the faulty one
        key_pattern = _compile("|".join(f"(?:{key})" for key in keys), re.IGNORECASE) if keys else None
        object.__setattr__(self, "_key_pattern", key_pattern)
        object.__setattr__(self, "_allowed", frozenset(normal_key(name) for name in allow))
        builtins = frozenset(value for value in values if isinstance(value, str))
        object.__setattr__(self, "_detectors", builtin_detectors(builtins))
        custom = tuple((_compile(v.pattern, 0), v.marker) for v in values if isinstance(v, ValuePattern))
        object.__setattr__(self, "_custom", custom)
        object.__setattr__(self, "_verdicts", {})
        object.__setattr__(self, "_texts", {})
        object.__setattr__(self, "_lines", {})

    @classmethod
    def none(cls) -> Redactor:
        """A redactor that changes nothing (for trusted, local use)."""
        return cls(enabled=False)

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Redactor:
        """A redactor from a ``[tool.jobq.redact]`` table: the defaults ``extended`` with it."""
        return cls().extended(config)

    def extended(self, config: Mapping[str, Any]) -> Redactor:
        """A copy with a ``[tool.jobq.redact]`` table's patterns and exemptions added to this one's.

        ``keys``: more key patterns; ``values``: more text patterns (regular expressions, or ``{name, pattern}``
        tables for a ``[redacted <name>]`` marker); ``allow``: field names never redacted; ``enabled``: false to
        turn redaction off (true to turn it on). A key pattern is dropped by allowing its field names, never by
        omission, so that adding one pattern cannot silently stop hiding phone numbers.
        """
        unknown = sorted(set(config) - {"keys", "values", "allow", "enabled"})
        if unknown:
            raise JobqError(f"redact: unknown setting {unknown[0]!r} (expected keys, values, allow, enabled)")
        enabled = config.get("enabled", self.enabled)
        if not isinstance(enabled, bool):
            raise JobqError(f"redact.enabled must be true or false, not {enabled!r}")
        keys, allow = _config_strings(config, "keys"), _config_strings(config, "allow")
        values = [_value_pattern(item) for item in _config_list(config, "values")]
        return replace(
            self, keys=(*self.keys, *keys), values=(*self.values, *values), allow=(*self.allow, *allow), enabled=enabled
        )

    def sensitive(self, key: str) -> bool:
        """Whether a field's value is hidden whole (its normal form matches a key pattern and is not allowed)."""
        return self._verdict(key) is True

    def payload(self, value: Any) -> Any:
        """A copy of a JSON value with sensitive fields hidden and PII in its strings replaced."""
        return self._value(value) if self.enabled else value

    def payload_note(self, note: str | None) -> str | None:
        """A degraded payload's note without the stored text it quotes: which keys it hid cannot be told."""
        if not self.enabled or note is None or EXCERPT not in note:
            return note
        return note.split(EXCERPT, 1)[0] + EXCERPT + REDACTED

    def text(self, text: str) -> str:
        """``text`` with e-mail addresses, phone and card numbers, secrets and user patterns replaced."""
        if not self.enabled or not text:
            return text
        done = self._texts.get(text)
        return done if done is not None else self.texts([text])[0]

    def texts(self, texts: Sequence[str]) -> list[str]:
        """Many texts at once, each as ``text`` would return it: one scan covers everything not seen before."""
        if not self.enabled:
            return list(texts)
        cache = self._texts
        done: dict[str, str] = {}
        new: list[str] = []
        for text in dict.fromkeys(texts):
            hit = cache.get(text) if text else text
            if hit is None:
                new.append(text)
            else:
                done[text] = hit
        for text, result in zip(new, self._scan(new) if new else [], strict=True):
            done[text] = result
            if len(text) <= _CACHE_MAX_TEXT:  # the same traceback comes back on every attempt and in every list
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[text] = result
        return [done[text] for text in texts]

    def dead_letter(self, letter: DeadLetter) -> DeadLetter:
        """A copy of a dead letter with its payload, error texts, error history and note redacted."""
        if not self.enabled:
            return letter
        texts = [letter.error_message, letter.error_traceback, letter.note or ""]
        for error in letter.errors:
            texts += (error.message, error.traceback)
        done = iter(self.texts(texts + self._strings(letter.payload, [])))  # one scan for all; payload() then hits
        message, traceback, note = next(done), next(done), next(done)
        return replace(
            letter,
            payload=self.payload(letter.payload),
            error_message=message,
            error_traceback=traceback,
            errors=tuple(self._attempt(error, next(done), next(done)) for error in letter.errors),
            note=note if letter.note is not None else None,
            payload_note=self.payload_note(letter.payload_note),
        )

    def job(self, job: Job) -> Job:
        """A copy of a job with its payload and error history redacted."""
        if not self.enabled:
            return job
        texts = [text for error in job.errors for text in (error.message, error.traceback)]
        done = iter(self.texts(texts + self._strings(job.payload, [])))  # one scan for all; payload() then hits
        errors = tuple(self._attempt(error, next(done), next(done)) for error in job.errors)
        payload_note = self.payload_note(job.payload_note)
        return replace(job, payload=self.payload(job.payload), errors=errors, payload_note=payload_note)

    def record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as JSON values (``jobq.serialize`` keys: a job, dead letter, group or hook data), redacted."""
        redacted = dict(record)
        if not self.enabled:
            return redacted
        self.texts(self._record_strings(record, []))  # one scan for all: the lines below then hit the cache
        if "payload" in redacted:
            redacted["payload"] = self.payload(redacted["payload"])
        if isinstance(redacted.get("payload_note"), str):
            redacted["payload_note"] = self.payload_note(redacted["payload_note"])
        for name in TEXT_FIELDS:
            if isinstance(redacted.get(name), str):
                redacted[name] = self.text(redacted[name])
        for name in ("errors", "fingerprints"):  # a letter's history; the failures a new-fingerprint alert names
            if isinstance(redacted.get(name), list | tuple):
                redacted[name] = [self.record(e) if isinstance(e, Mapping) else e for e in redacted[name]]
        if isinstance(redacted.get("dead_letter"), Mapping):
            redacted["dead_letter"] = self.record(redacted["dead_letter"])
        return redacted

    # -- internals ----------------------------------------------------------------------------------

    @staticmethod
    def _attempt(error: AttemptError, message: str, traceback: str) -> AttemptError:
        if message is error.message and traceback is error.traceback:
            return error  # nothing to hide: the frozen record can be shared
        return replace(error, message=message, traceback=traceback)

    def _verdict(self, key: str) -> bool | None:
        """True: hide the value; None: leave it alone (allowed); False: look inside it."""
        try:
            return self._verdicts[key]
        except KeyError:
            pass
        name = normal_key(key)
        pattern = self._key_pattern
        if name in self._allowed:
            verdict: bool | None = None
        else:
            verdict = pattern is not None and (pattern.search(name) is not None or pattern.search(key) is not None)
        if len(self._verdicts) >= 4096:  # keys come from payloads: bound what we remember
            self._verdicts.clear()
        self._verdicts[key] = verdict
        return verdict

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {key: self._field(str(key), item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._value(item) for item in value]
        return value

    def _strings(self, value: Any, found: list[str]) -> list[str]:
        """The strings of a JSON value that ``payload`` would scan, appended to ``found``."""
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if self._verdict(str(key)) is False:
                    self._strings(item, found)
        elif isinstance(value, list | tuple):
            for item in value:
                self._strings(item, found)
        return found

    def _record_strings(self, record: Mapping[str, Any], found: list[str]) -> list[str]:
        """The texts ``record`` would scan in ``record``, appended to ``found``."""
        self._strings(record.get("payload"), found)
        found += [record[name] for name in TEXT_FIELDS if isinstance(record.get(name), str)]
        for nested in (*(record.get("errors") or ()), record.get("dead_letter")):
            if isinstance(nested, Mapping):
                self._record_strings(nested, found)
        return found

    def _field(self, key: str, value: Any) -> Any:
        verdict = self._verdict(key)
        if verdict is None:
            return value
        if verdict:
            # None and booleans say nothing personal, and "phone was null" is often the very failure.
            return value if value is None or isinstance(value, bool) else REDACTED
        return self._value(value)

    def _scan(self, texts: list[str]) -> list[str]:
        """Redacted copies of distinct texts, with one scan of all their lines not in the line cache.

        Tracebacks share most of their lines (across attempts, and across jobs of one task), and each scan
        costs a fixed dozen passes in C whatever its length: so lines are cached, and new ones scanned together.
        No built-in pattern spans a line break or puts one in; user patterns might, so they get each text whole.
        """
        if self._custom:
            return [self._scrub(text) for text in texts]
        lines_cache = self._lines
        plans: list[tuple[str, list[str], list[str | None], bool]] = []
        pending: list[str] = []
        for text in texts:
            lines = text.split("\n")
            linewise = len(lines) > 1 and len(text) >= _LINEWISE_FROM
            known: list[str | None] = [lines_cache.get(line) for line in lines] if linewise else [None] * len(lines)
            pending += [line for line, result in zip(lines, known, strict=True) if result is None]
            plans.append((text, lines, known, linewise))
        scanned = self._scrub("\n".join(pending)).split("\n") if pending else []
        if len(scanned) != len(pending):  # cannot happen with the built-in patterns; stay correct if it does
            return [self._scrub(text) for text in texts]
        if len(lines_cache) + len(pending) > _LINE_CACHE_SIZE:
            lines_cache.clear()
        fresh = iter(scanned)
        results = []
        for text, lines, known, linewise in plans:
            for index, result in enumerate(known):
                if result is None:
                    known[index] = result = next(fresh)
                    if linewise and len(lines[index]) <= _LINE_CACHE_MAX_LINE:
                        lines_cache[lines[index]] = result
            joined = "\n".join(known)  # type: ignore[arg-type]  # every None was filled
            results.append(text if joined == text else joined)
        return results

    def _scrub(self, text: str) -> str:
        spans: list[Span] = []
        for pattern, marker in self._custom:
            spans += [(found.start(), found.end(), marker) for found in pattern.finditer(text) if found.group()]
        raw = text.encode("ascii", "replace")  # one byte per character: offsets agree with the str's
        for detect in self._detectors:
            detect(text, raw, spans)
        return apply_spans(text, spans) if spans else text


def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise JobqError(f"redact: {pattern!r} is not a valid regular expression: {exc}") from None


def _config_list(config: Mapping[str, Any], name: str) -> list[Any]:
    value = config.get(name, [])
    if not isinstance(value, list | tuple):
        raise JobqError(f"redact.{name} must be a list, not {type(value).__name__}")
    return list(value)


def _config_strings(config: Mapping[str, Any], name: str) -> list[str]:
    items = _config_list(config, name)
    for item in items:
        if not isinstance(item, str) or not item:
            raise JobqError(f"redact.{name} must hold non-empty strings, not {item!r}")
    return items


def _value_pattern(item: Any) -> ValuePattern:
    if isinstance(item, str) and item:
        return ValuePattern(item)
    if isinstance(item, Mapping) and isinstance(item.get("pattern"), str) and set(item) <= {"name", "pattern"}:
        return ValuePattern(item["pattern"], str(item.get("name", "")))
    raise JobqError(f"redact.values entries are regular expressions or {{name, pattern}} tables, not {item!r}")
