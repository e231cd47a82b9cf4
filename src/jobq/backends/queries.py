"""Named SQL: every statement lives in a ``.sql`` file under a ``-- name: <name>`` line."""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def load_queries(package: str, filename: str) -> dict[str, str]:
    """Read ``filename`` from ``package`` and split it into ``{name: statement}``."""
    text = (files(package) / filename).read_text(encoding="utf-8")
    parts = _NAME.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    return {name: body.strip().rstrip(";") for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def load_migrations(package: str) -> list[tuple[int, str, str]]:
    """The migrations of ``package``/migrations as ``(version, name, sql)``, in order."""
    found = []
    for entry in (files(package) / "migrations").iterdir():
        name = Path(entry.name)
        if name.suffix == ".sql" and name.stem.split("_", 1)[0].isdigit():
            found.append((int(name.stem.split("_", 1)[0]), name.stem, entry.read_text(encoding="utf-8")))
    return sorted(found)
