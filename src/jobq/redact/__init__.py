"""PII redaction: payload fields by key name, and e-mail addresses, phone numbers, card numbers and secrets
in text.

Payloads and error messages are where personal data leaks: a job that sends an SMS carries a phone number,
and the provider's error repeats it ("invalid phone number +15550001111"). Hook deliveries, API responses,
CLI output and exports all pass through one ``Redactor``. A value under a sensitive key becomes
``"[redacted]"``; a match in free text keeps a hint of what it was: ``[redacted email]``,
``[redacted phone]``, ``[redacted card]``, ``[redacted token]``.

    redactor = Redactor.from_dict(config.get("redact", {}))     # [tool.jobq.redact]
    safe = redactor.dead_letter(letter)
"""

from jobq.redact.detectors import BUILTIN_VALUES, CARD, EMAIL, PHONE, TOKEN
from jobq.redact.redactor import DEFAULT_KEYS, REDACTED, TEXT_FIELDS, Redactor, ValuePattern, normal_key

__all__ = [
    "BUILTIN_VALUES",
    "CARD",
    "DEFAULT_KEYS",
    "EMAIL",
    "PHONE",
    "REDACTED",
    "TEXT_FIELDS",
    "TOKEN",
    "Redactor",
    "ValuePattern",
    "normal_key",
]
