"""Parameter types of the command line: durations, points in time and JSON arguments."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # click is generic from 8.4 on; older versions (still supported) are not subscriptable
    DurationType = click.ParamType[timedelta]
    MomentType = click.ParamType[datetime | timedelta]
    JsonType = click.ParamType[Any]
else:
    DurationType = MomentType = JsonType = click.ParamType

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_NUMBER = r"\d+(?:\.\d+)?"
_PART = re.compile(rf"({_NUMBER})([smhdw])")
DURATION_HELP = "a number and a unit (s, m, h, d, w), e.g. 30s, 15m, 12h, 30d, 2w or 1h30m"


def parse_duration(text: str, *, bare_unit: str | None = "s") -> timedelta:
    """``30s``, ``15m``, ``12h``, ``30d``, ``2w`` or a sum like ``1h30m``; a bare number is in ``bare_unit``."""
    value = text.strip().lower()
    if re.fullmatch(_NUMBER, value):
        if bare_unit is None:
            raise ValueError(f"{text!r} needs a unit: {', '.join(value + unit for unit in UNITS)}")
        return timedelta(seconds=float(value) * UNITS[bare_unit])
    parts = _PART.findall(value)
    if not value or "".join(number + unit for number, unit in parts) != value:
        raise ValueError(f"{text!r} is not a duration: use {DURATION_HELP}")
    return timedelta(seconds=sum(float(number) * UNITS[unit] for number, unit in parts))


def format_duration(duration: timedelta) -> str:
    """The short form back: ``30d``, ``1h30m``, ``45s``."""
    seconds = duration.total_seconds()
    parts = []
    for unit in ("d", "h", "m"):
        amount, seconds = divmod(seconds, UNITS[unit])
        if amount:
            parts.append(f"{amount:g}{unit}")
    if seconds or not parts:
        parts.append(f"{seconds:g}s")
    return "".join(parts)


class Duration(DurationType):
    """A length of time such as ``30d``; ``bare_unit`` says what a number without a unit means (None: refuse)."""

    name = "duration"

    def __init__(self, bare_unit: str | None = "s") -> None:
        self.bare_unit = bare_unit

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> timedelta:
        if isinstance(value, timedelta):
            return value
        if isinstance(value, int | float) and self.bare_unit is not None:
            return timedelta(seconds=float(value) * UNITS[self.bare_unit])
        try:
            return parse_duration(str(value), bare_unit=self.bare_unit)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class Moment(MomentType):
    """A point in time: a duration meaning that long ago (``2h``), or an ISO 8601 date/time (local if naive)."""

    name = "time"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime | timedelta:
        if isinstance(value, datetime | timedelta):
            return value
        text = str(value).strip()
        try:
            return parse_duration(text, bare_unit=None)
        except ValueError:
            pass
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is not a time: use a duration ago (2h, 7d) or an ISO date like 2024-05-01T10:00",
                param, ctx,
            )  # fmt: skip
        return moment if moment.tzinfo is not None else moment.astimezone()


class JsonArgument(JsonType):
    """A JSON text that must decode to an array (``list``) or an object (``dict``)."""

    def __init__(self, kind: type[list[Any]] | type[dict[str, Any]]) -> None:
        self.kind = kind
        self.name = "json array" if kind is list else "json object"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "JSON"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, self.kind):
            return value
        try:
            decoded = json.loads(value)
        except RecursionError:
            self.fail(f"{value[:40]!r}… is nested too deeply", param, ctx)
        except (TypeError, json.JSONDecodeError) as exc:
            self.fail(f"{value!r} is not valid JSON ({exc})", param, ctx)
        if not isinstance(decoded, self.kind):
            example = "'[\"a\", 1]'" if self.kind is list else '\'{"to": "+15550100"}\''
            self.fail(f"{value!r} must be a {self.name}, e.g. {example}", param, ctx)
        return decoded
