"""What a request value may be. Each kind parses query text or decoded JSON, and states its JSON Schema.

One object does both, so the OpenAPI document cannot promise what the validation refuses, nor the reverse.
Values are parsed into plain Python values, which ``App`` and ``app.dlq`` bind as SQL parameters.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Schema = dict[str, Any]

NO_NUL = "^[^\\u0000]*$"
"""Text without U+0000, which PostgreSQL cannot store."""
DATE_TIME = (
    r"[12][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
"""An RFC 3339 time with its offset, e.g. ``2024-05-01T10:00:00Z``."""
DURATION = r"(?:[0-9]{1,6}[smhdw])+"
"""A length of time: ``90s``, ``15m``, ``12h``, ``30d``, ``2w``, or a sum such as ``1h30m``."""
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


class Invalid(ValueError):
    """A value that does not fit its kind; the message says what was expected."""


class Kind(Generic[T]):
    """A kind of value: its JSON Schema, and how to read it from query text and from JSON."""

    def schema(self) -> Schema:
        raise NotImplementedError

    def from_text(self, text: str) -> T:
        raise NotImplementedError

    def from_json(self, value: object) -> T:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Kind[str]):
    """A string of bounded length, without NUL."""

    min_length: int = 1
    max_length: int = 500

    def schema(self) -> Schema:
        return {"type": "string", "minLength": self.min_length, "maxLength": self.max_length, "pattern": NO_NUL}

    def from_text(self, text: str) -> str:
        if not self.min_length <= len(text) <= self.max_length:
            raise Invalid(f"expected {self.min_length} to {self.max_length} characters, got {len(text)}")
        if "\x00" in text:
            raise Invalid("expected text without NUL characters")
        return text

    def from_json(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid("expected a string")
        return self.from_text(value)


@dataclass(frozen=True)
class Integer(Kind[int]):
    """A whole number between two bounds."""

    minimum: int
    maximum: int

    def schema(self) -> Schema:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def from_text(self, text: str) -> int:
        if not re.fullmatch(r"-?[0-9]{1,19}", text):
            raise Invalid(f"expected a whole number, got {text[:40]!r}")
        return self._bounded(int(text))

    def from_json(self, value: object) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid("expected a whole number")
        return self._bounded(value)

    def _bounded(self, value: int) -> int:
        if not self.minimum <= value <= self.maximum:
            raise Invalid(f"expected {self.minimum} to {self.maximum}, got {value}")
        return value


@dataclass(frozen=True)
class Number(Kind[float]):
    """A finite number between two bounds."""

    minimum: float
    maximum: float

    def schema(self) -> Schema:
        return {"type": "number", "minimum": self.minimum, "maximum": self.maximum}

    def from_text(self, text: str) -> float:
        if not re.fullmatch(r"-?[0-9]{1,15}(?:\.[0-9]{1,15})?", text):
            raise Invalid(f"expected a number, got {text[:40]!r}")
        return self.from_json(float(text))

    def from_json(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid("expected a number")
        if not self.minimum <= value <= self.maximum:
            raise Invalid(f"expected {self.minimum:g} to {self.maximum:g}, got {value:g}")
        return float(value)


@dataclass(frozen=True)
class Boolean(Kind[bool]):
    """``true`` or ``false``."""

    def schema(self) -> Schema:
        return {"type": "boolean"}

    def from_text(self, text: str) -> bool:
        if text not in ("true", "false"):
            raise Invalid(f"expected true or false, got {text[:40]!r}")
        return text == "true"

    def from_json(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise Invalid("expected true or false")
        return value


@dataclass(frozen=True)
class Choice(Kind[str]):
    """One of a fixed set of names."""

    choices: tuple[str, ...]

    def schema(self) -> Schema:
        return {"type": "string", "enum": list(self.choices)}

    def from_text(self, text: str) -> str:
        if text not in self.choices:
            raise Invalid(f"expected one of {', '.join(self.choices)}, got {text[:40]!r}")
        return text

    def from_json(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid(f"expected one of {', '.join(self.choices)}")
        return self.from_text(value)


class Duration(Kind[timedelta]):
    """A length of time such as ``30d`` or ``1h30m``."""

    def schema(self) -> Schema:
        return {"type": "string", "pattern": f"^{DURATION}$", "examples": ["30d", "12h", "1h30m"]}

    def from_text(self, text: str) -> timedelta:
        if not re.fullmatch(DURATION, text):
            raise Invalid(f"expected a duration such as 30d, 12h or 1h30m, got {text[:40]!r}")
        return _duration(text)

    def from_json(self, value: object) -> timedelta:
        if not isinstance(value, str):
            raise Invalid("expected a duration such as 30d, 12h or 1h30m")
        return self.from_text(value)


class Moment(Kind[datetime | timedelta]):
    """A point in time: an RFC 3339 time with offset, or a duration meaning that long ago."""

    def schema(self) -> Schema:
        return {
            "type": "string",
            "pattern": f"^(?:{DATE_TIME}|{DURATION})$",
            "examples": ["2024-05-01T10:00:00Z", "7d", "2h"],
        }

    def from_text(self, text: str) -> datetime | timedelta:
        if re.fullmatch(DURATION, text):
            return _duration(text)
        if re.fullmatch(DATE_TIME, text):
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass  # a day that does not exist, such as February 30th
        raise Invalid(f"expected a time such as 2024-05-01T10:00:00Z or a duration ago such as 7d, got {text[:40]!r}")

    def from_json(self, value: object) -> datetime | timedelta:
        if not isinstance(value, str):
            raise Invalid("expected a time such as 2024-05-01T10:00:00Z or a duration ago such as 7d")
        return self.from_text(value)


class DateTime(Moment):
    """An RFC 3339 time with offset (no durations)."""

    def schema(self) -> Schema:
        return {"type": "string", "pattern": f"^{DATE_TIME}$", "examples": ["2024-05-01T10:00:00Z"]}

    def from_text(self, text: str) -> datetime:
        moment = super().from_text(text) if re.fullmatch(DATE_TIME, text) else None
        if not isinstance(moment, datetime):
            raise Invalid(f"expected a time such as 2024-05-01T10:00:00Z, got {text[:40]!r}")
        return moment


@dataclass(frozen=True)
class JsonObject(Kind[dict[str, Any]]):
    """Any JSON object (a payload's keyword arguments)."""

    def schema(self) -> Schema:
        return {"type": "object"}

    def from_json(self, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid("expected an object")
        return value


@dataclass(frozen=True)
class JsonArray(Kind[list[Any]]):
    """Any JSON array (a payload's positional arguments)."""

    def schema(self) -> Schema:
        return {"type": "array"}

    def from_json(self, value: object) -> list[Any]:
        if not isinstance(value, list):
            raise Invalid("expected an array")
        return value


@dataclass(frozen=True)
class ListOf(Kind[list[T]]):
    """An array of values of one kind, of bounded length."""

    item: Kind[T]
    min_items: int
    max_items: int

    def schema(self) -> Schema:
        return {"type": "array", "items": self.item.schema(), "minItems": self.min_items, "maxItems": self.max_items}

    def from_json(self, value: object) -> list[T]:
        if not isinstance(value, list):
            raise Invalid("expected an array")
        if not self.min_items <= len(value) <= self.max_items:
            raise Invalid(f"expected {self.min_items} to {self.max_items} items, got {len(value)}")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(self.item.from_json(item))
            except Invalid as exc:
                raise Invalid(f"[{index}]: {exc}") from None
        return items


@dataclass(frozen=True)
class Field:
    """One member of a JSON object."""

    kind: Kind[Any]
    description: str
    required: bool = False
    nullable: bool = False
    """``null`` is accepted, and means the same as leaving the member out."""

    def schema(self) -> Schema:
        schema = self.kind.schema()
        if self.nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return {**schema, "description": self.description}


@dataclass(frozen=True)
class Fields(Kind[dict[str, Any]]):
    """A JSON object with these members and no others.

    ``one_of``: members of which exactly one must be given; ``exclusive``: pairs of members not to give together.
    """

    fields: Mapping[str, Field]
    one_of: tuple[str, ...] = field(default=())
    exclusive: tuple[tuple[str, str], ...] = field(default=())

    def schema(self) -> Schema:
        schema: Schema = {
            "type": "object",
            "properties": {name: member.schema() for name, member in self.fields.items()},
            "additionalProperties": False,
        }
        required = [name for name, member in self.fields.items() if member.required]
        if required:
            schema["required"] = required
        # Said with anyOf and not rather than oneOf, which schemathesis's negative generation stumbles on.
        pairs = [*self.exclusive, *itertools.combinations(self.one_of, 2)]
        if self.one_of:
            schema["anyOf"] = [{"required": [name]} for name in self.one_of]
        if pairs:
            schema["allOf"] = [{"not": {"required": list(pair)}} for pair in pairs]
        return schema

    def from_json(self, value: object) -> dict[str, Any]:
        """The members given (``null`` ones left out), parsed."""
        if not isinstance(value, dict):
            raise Invalid("expected an object")
        unknown = [name for name in value if name not in self.fields]
        if unknown:
            raise Invalid(f"unknown member {unknown[0]!r} (expected {', '.join(self.fields)})")
        missing = [name for name, member in self.fields.items() if member.required and name not in value]
        if missing:
            raise Invalid(f"{missing[0]!r} is required")
        if self.one_of and sum(name in value for name in self.one_of) != 1:
            raise Invalid(f"give exactly one of {' or '.join(self.one_of)}")
        for first, second in self.exclusive:
            if first in value and second in value:
                raise Invalid(f"give {first} or {second}, not both")
        return {
            name: self._member(name, item)
            for name, item in value.items()
            if item is not None or not self.fields[name].nullable
        }

    def _member(self, name: str, value: object) -> Any:
        try:
            return self.fields[name].kind.from_json(value)
        except Invalid as exc:
            raise Invalid(f"{name}: {exc}") from None


def _duration(text: str) -> timedelta:
    return timedelta(seconds=sum(int(number) * _UNITS[unit] for number, unit in re.findall(r"([0-9]+)([smhdw])", text)))
