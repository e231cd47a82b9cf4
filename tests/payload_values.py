"""Payload values built to a size or depth, for the tests of the payload rule and its readers."""

from __future__ import annotations

from typing import Any


def nested(depth: int) -> Any:
    """``0`` inside ``depth`` lists."""
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


def nested_text(depth: int) -> str:
    """The JSON text of ``nested(depth)``, built without recursion."""
    return "[" * depth + "0" + "]" * depth
