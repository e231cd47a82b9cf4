"""How results look: the console, times, progress, and JSON with the key names of SPEC section 3.

``listings`` (a row per record) and ``details`` (one record in full) build on this. rich is imported inside
the functions that draw, so that ``jobq --help`` never pays for it.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import shlex
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from jobq.job import DeadLetter, DeadLetterGroup, Job
from jobq.redact import Redactor
from jobq.serialize import dead_letter_to_dict, job_to_dict

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

CLASS_STYLES = {"recoverable": "cyan", "user_error": "yellow", "system_error": "red", "unknown": "magenta"}
STATUS_STYLES = {"queued": "blue", "scheduled": "blue", "running": "cyan", "succeeded": "green", "dead": "red"}
LIGHT_FIELDS = ("payload", "payload_note", "errors", "error_traceback")
"""What a dead-letter listing leaves out unless asked (the store does not read them)."""


# -- primitives -----------------------------------------------------------------------------------


@functools.cache
def console(*, err: bool = False) -> Console:
    """A rich console on stdout (or stderr); with ``NO_COLOR`` set, plain text without any escape codes."""
    from rich.console import Console

    if os.environ.get("NO_COLOR"):
        return Console(stderr=err, color_system=None, no_color=True, highlight=False)
    return Console(stderr=err, highlight=False)


def echo_json(data: Any) -> None:
    """Print one JSON document."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def plural(count: int, noun: str) -> str:
    """``1 dead letter``, ``2 dead letters``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def screenful() -> int:
    """How many lines the terminal shows (``LINES`` wins, 24 when unknown)."""
    return shutil.get_terminal_size((80, 24)).lines


def relative(moment: datetime | None, now: float | None = None) -> str:
    """``just now``, ``5m ago``, ``in 2h``, ``40d ago``; a date beyond a year."""
    if moment is None:
        return "—"
    seconds = (time.time() if now is None else now) - moment.timestamp()
    distance = abs(seconds)
    if distance < 5:
        return "just now"
    if distance >= 365 * 86_400:
        return moment.astimezone().strftime("%Y-%m-%d")
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)):
        if distance >= size:
            amount = f"{int(distance // size)}{unit}"
            break
    return f"{amount} ago" if seconds > 0 else f"in {amount}"


def timestamp(moment: datetime | None) -> str:
    """A local time to the second, with how long ago it was."""
    if moment is None:
        return "—"
    return f"{moment.astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')} ({relative(moment)})"


def shown_filter(redactor: Redactor, filters: Mapping[str, Any]) -> dict[str, Any]:
    """A filter as a redrive or a purge stored it, to show: times (unix seconds) as datetimes, and the searched
    text redacted (an operator may have searched for a phone number), as the HTTP API shows it."""
    shown = dict(filters)
    for name in ("since", "until"):
        if isinstance(shown.get(name), int | float):
            shown[name] = datetime.fromtimestamp(shown[name], UTC)
    if isinstance(shown.get("search"), str):
        shown["search"] = redactor.text(shown["search"])
    return shown


def filter_flags(filters: Mapping[str, Any], *, pinned_at: datetime | None = None) -> str:
    """A ``shown_filter`` as the ``dlq`` options that select the same letters: ``--tenant acme --class unknown``.

    An ``until`` within a minute of ``pinned_at`` is left out: that is the "now" a bulk change pins, not the
    operator's choice.
    """
    flags: list[str] = []
    for key, value in filters.items():
        if key == "unresolved":
            continue  # what --all selects unless told otherwise
        if isinstance(value, datetime):
            if key == "until" and pinned_at and abs((value - pinned_at).total_seconds()) < 60:
                continue
            value = value.astimezone().strftime("%Y-%m-%dT%H:%M:%S")
        flags += [f"--{_FLAG_NAMES.get(key, key)}", shlex.quote(str(value))]
    return " ".join(flags)


_FLAG_NAMES = {"error_class": "class"}


def one_line(text: str) -> str:
    """Whitespace (newlines included) folded into single spaces."""
    return " ".join(text.split())


def text(value: object, style: str = "") -> Text:
    """User data as rich text: never parsed as markup (an error message may contain ``[brackets]``)."""
    from rich.text import Text

    return Text("—" if value is None else str(value), style=style)


def table(*columns: str, title: str | None = None) -> Table:
    """A compact table of a few numbers."""
    from rich import box
    from rich.table import Table

    grid = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left", title_style="bold")
    for name in columns:
        grid.add_column(name, no_wrap=True, overflow="ellipsis")
    return grid


def show(renderable: Any) -> None:
    """Print a rich renderable on stdout."""
    console().print(renderable)


@contextmanager
def progress(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A progress bar on stderr when ``total`` is more than a screenful; yields the function that advances it."""
    if total <= screenful():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console(err=True), transient=False) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


# -- JSON shapes ----------------------------------------------------------------------------------


def dead_letter_json(letter: DeadLetter, *, full: bool = True) -> dict[str, Any]:
    """A dead letter with SPEC's keys; a light listing leaves out payload, history and traceback."""
    data = dead_letter_to_dict(letter)
    if not full:
        for name in LIGHT_FIELDS:
            data.pop(name, None)
    return data


def job_json(job: Job) -> dict[str, Any]:
    """A job with SPEC's keys."""
    return job_to_dict(job)


def group_json(group: DeadLetterGroup) -> dict[str, Any]:
    """A group of dead letters: value, count, first/last seen and a sample."""
    return record_json(group)


def record_json(record: Any) -> dict[str, Any]:
    """A frozen record (a group, a redrive, an audit entry) with its field names as keys, times as ISO 8601."""
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in dataclasses.asdict(record).items()}  # fmt: skip


def redacted_groups(redactor: Redactor, groups: list[DeadLetterGroup]) -> list[DeadLetterGroup]:
    """Groups with their sample messages redacted (their values, a tenant or a task, are shown as they are)."""
    messages = redactor.texts([group.sample_message for group in groups])
    return [dataclasses.replace(g, sample_message=m) for g, m in zip(groups, messages, strict=True)]
