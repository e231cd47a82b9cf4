"""PII redaction of what the server sends: payload fields by key name, e-mail addresses and phone numbers in text.

Payloads and error messages are where personal data leaks: a job that sends an SMS carries a phone number, and
the provider's error repeats it ("invalid phone number +15550001111"). Every response runs through one
``Redactor``; a value it hides becomes ``"[redacted]"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"

DEFAULT_KEYS: tuple[str, ...] = (
    "phone", "mobile", "msisdn", "e[-_]?mail", "token", "passw(or)?d", "passwd", "secret", "card", "cvv", "cvc",
    "iban", "ssn", "authori[sz]ation", "api[-_]?key", "private[-_]?key", "credential", "cookie", "session",
)  # fmt: skip
"""Payload keys (regular expressions, searched case-insensitively) whose values are hidden whole."""

EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
INTERNATIONAL_PHONE = r"(?<![\w+])\+\d(?:[ ().-]?\d){6,14}(?!\d)"
"""``+15550001111``, ``+82 10-1234-5678``: a plus, then 7 to 15 digits."""
LOCAL_PHONE = r"(?<![\w.:-])\(?\d{2,4}\)?[ .-]\d{3,4}[ .-]\d{4}(?![\w.:-])"
"""``(555) 010-1234``, ``010-1234-5678``: grouped digits; ISO dates and times do not have this shape."""
DEFAULT_TEXT_PATTERNS: tuple[str, ...] = (EMAIL, INTERNATIONAL_PHONE, LOCAL_PHONE)

TEXT_FIELDS = ("error_message", "error_traceback", "message", "traceback", "sample_message", "note")
"""Fields of records and groups whose text is scrubbed of e-mail addresses and phone numbers."""


class Redactor:
    """Hides payload values under sensitive keys, and e-mail addresses and phone numbers inside any text.

    >>> Redactor(keys=["phone", "iban"], allow=["phone_country"]).value({"phone": "+15550100", "phone_country": "US"})
    {'phone': '[redacted]', 'phone_country': 'US'}
    """

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_KEYS,
        *,
        allow: Iterable[str] = (),
        text_patterns: Iterable[str] = DEFAULT_TEXT_PATTERNS,
    ) -> None:
        self._keys = _any_of(keys, re.IGNORECASE)
        self._allowed = frozenset(name.lower() for name in allow)
        self._text = _any_of(text_patterns)

    def sensitive(self, key: str) -> bool:
        """Whether a payload key's value is hidden."""
        return self._keys is not None and key.lower() not in self._allowed and self._keys.search(key) is not None

    def text(self, text: str) -> str:
        """``text`` with e-mail addresses and phone numbers hidden."""
        return text if self._text is None else self._text.sub(REDACTED, text)

    def value(self, value: Any) -> Any:
        """A JSON value (a payload) with sensitive keys' values hidden, and PII in its strings."""
        if isinstance(value, Mapping):
            return {key: REDACTED if self.sensitive(str(key)) else self.value(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A job, dead letter or group as JSON values (``serialize``'s keys), redacted for a response."""
        redacted = dict(record)
        if isinstance(redacted.get("payload"), Mapping):
            redacted["payload"] = self.value(redacted["payload"])
        for name in TEXT_FIELDS:
            if isinstance(redacted.get(name), str):
                redacted[name] = self.text(redacted[name])
        if isinstance(redacted.get("errors"), list | tuple):
            redacted["errors"] = [self.record(error) for error in redacted["errors"]]
        return redacted


def _any_of(patterns: Iterable[str], flags: int = 0) -> re.Pattern[str] | None:
    """One regular expression matching any of ``patterns`` (None for none); ValueError names a bad one."""
    patterns = list(patterns)
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"redaction pattern {pattern!r} is not a regular expression: {exc}") from None
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), flags) if patterns else None
