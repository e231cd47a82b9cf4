"""Edit then replay: the payload an operator typed, with what they left redacted given back its stored value.

The editor shows the payload redacted, like every page. A value the operator did not touch — a whole
``"[redacted]"`` field, or a string whose PII shows as ``[redacted email]`` — takes back the stored value, so
fixing one argument never replaces a phone number with the word "redacted". A value they changed is used
as typed.
"""

from __future__ import annotations

import json
from typing import Any

from jobq.errors import PayloadError
from jobq.job import Payload
from jobq.payload import MAX_DEPTH
from jobq.payload import accept as accept_payload
from jobq.redact import REDACTED, Redactor
from jobq.web.dashboard.query import Invalid

MAX_PAYLOAD_TEXT = 256 * 1024


def edited_payload(text: str, original: Payload, redactor: Redactor) -> Payload:
    """The payload to replay with, from the editor's text; Invalid says what is wrong with it."""
    if len(text) > MAX_PAYLOAD_TEXT:
        raise Invalid(f"the payload is longer than {MAX_PAYLOAD_TEXT:,} characters")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise Invalid(f"the payload is nested too deeply (the limit is {MAX_DEPTH} lists and dicts)") from None
    except ValueError as exc:
        raise Invalid(f"the payload is not valid JSON: {exc}") from None
    shape = 'a JSON object {"args": [...], "kwargs": {...}}'
    if not isinstance(value, dict) or set(value) - {"args", "kwargs"}:
        raise Invalid(f"the payload must be {shape}")
    if not isinstance(value.get("args", []), list) or not isinstance(value.get("kwargs", {}), dict):
        raise Invalid(f"the payload must be {shape}: args a list, kwargs an object")
    try:
        accept_payload(value)  # the rule every payload meets (restoring only brings back stored values)
    except PayloadError as exc:
        raise Invalid(str(exc)) from None
    restored = restore(value, original, redactor)
    return {"args": restored.get("args", []), "kwargs": restored.get("kwargs", {})}


def restore(edited: Any, original: Any, redactor: Redactor) -> Any:
    """``edited`` with every part still equal to the redacted ``original`` replaced by the original."""
    if edited == redactor.payload(original):
        return original
    if isinstance(edited, dict) and isinstance(original, dict):
        restored = {}
        for key, value in edited.items():
            if key not in original:
                restored[key] = value
            elif value == REDACTED and redactor.sensitive(str(key)):
                restored[key] = original[key]
            else:
                restored[key] = restore(value, original[key], redactor)
        return restored
    if isinstance(edited, list) and isinstance(original, list) and len(edited) == len(original):
        return [restore(item, before, redactor) for item, before in zip(edited, original, strict=True)]
    return edited


def still_redacted(payload: Payload) -> bool:
    """Whether a ``[redacted`` marker is left that is not the original's value (it would be sent as typed)."""
    return "[redacted" in json.dumps(payload, ensure_ascii=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
