"""Listings: one row per dead letter, job or group, with its message cut to the terminal's width."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from jobq.cli.output import CLASS_STYLES, STATUS_STYLES, console, one_line, relative, text
from jobq.job import DeadLetter, DeadLetterGroup, Job

if TYPE_CHECKING:
    from rich.console import Group
    from rich.text import Text

UNCAPPED = ("#", "id", "sample", "dead letter", "task", "state")
"""Columns never capped: ids are for copying, task names and states for reading whole."""
UNCUT = (*UNCAPPED, "class", "att", "count")
"""Columns not narrowed to fit a small terminal (the rest lose characters, widest first)."""
MESSAGE_ROOM = 32
"""The least room worth giving a message on its row; below that it gets a line of its own."""


def listing(
    headers: Sequence[str],
    rows: Sequence[tuple[Sequence[Text], Text]],
    *,
    cap: int = 24,
    uncut: Sequence[str] = (),
    optional: Sequence[str] = (),
    wrap: bool = False,
) -> Group:
    """Rows of short cells, each row ending with a message cut to the terminal width.

    On a wide terminal the message ends the row; on a narrow one (the id alone takes 26 columns) it goes on
    the line below, indented, so that it still gets most of the width instead of a few characters. ``uncut``
    names more columns never narrowed to fit; ``optional`` names the columns left out, in that order, while the
    row does not fit whole (80 columns show an id, a task name and a state uncut, not five columns cut to
    ``messa…``); with ``wrap``, messages are never cut either: one that does not fit on its row goes below and
    wraps.
    """
    from rich.console import Group
    from rich.text import Text

    width = console().width
    widths = [len(header) for header in headers[:-1]]
    caps = [999 if header in UNCAPPED else cap for header in headers[:-1]]
    for cells, _ in rows:
        widths = [min(max(known, cell.cell_len), most) for known, cell, most in zip(widths, cells, caps, strict=True)]
    headers, widths, rows = _drop_optional(headers, widths, rows, width=width, optional=optional)
    room = width - sum(widths) - 2 * len(widths)
    inline = room >= MESSAGE_ROOM and not (wrap and any(message.cell_len > room for _, message in rows))
    widths = _fit(widths, room=width - 2 * (len(widths) - 1), headers=headers, uncut=(*UNCUT, *uncut))

    def line(cells: Sequence[Text], message: Text | None) -> list[Text]:
        padded = []
        for cell, size in zip(cells, widths, strict=True):
            cell = cell.copy()
            cell.truncate(size, overflow="ellipsis", pad=True)
            padded.append(cell)
        first = Text("  ").join(padded)
        if message is None or (not message.plain and not inline):
            lines = [first]
        elif inline:
            lines = [first + Text("  ") + message]
        else:
            lines = [first, Text("    ") + message]
        for number, item in enumerate(lines):
            if not (wrap and number):
                item.truncate(width, overflow="ellipsis")
            item.rstrip()
        return lines

    header_cells = [Text(name, style="bold") for name in headers]
    output = line(header_cells[:-1], header_cells[-1] if inline else None)
    for cells, message in rows:
        output.extend(line(cells, message))
    return Group(*output)


def _drop_optional(
    headers: Sequence[str],
    widths: list[int],
    rows: Sequence[tuple[Sequence[Text], Text]],
    *,
    width: int,
    optional: Sequence[str],
) -> tuple[Sequence[str], list[int], Sequence[tuple[Sequence[Text], Text]]]:
    """The columns (and their cells) left once the ``optional`` ones are dropped, in order, until a row fits."""
    keep = list(range(len(widths)))
    for name in optional:
        if sum(widths[index] for index in keep) + 2 * (len(keep) - 1) <= width:
            break
        keep = [index for index in keep if headers[index] != name]
    if len(keep) == len(widths):
        return headers, widths, rows
    kept_rows = [([cells[index] for index in keep], message) for cells, message in rows]
    return [*(headers[index] for index in keep), headers[-1]], [widths[index] for index in keep], kept_rows


def _fit(widths: list[int], *, room: int, headers: Sequence[str], uncut: Sequence[str]) -> list[int]:
    """Narrow the widest cuttable columns, one character at a time, until the row fits in ``room``."""
    widths = list(widths)
    floors = [width if header in uncut else min(len(header), 4) for header, width in zip(headers, widths, strict=False)]
    while sum(widths) > room:
        widest = max(range(len(widths)), key=lambda index: (widths[index] - floors[index], widths[index]))
        if widths[widest] <= floors[widest]:
            break
        widths[widest] -= 1
    return widths


def dead_letters_table(letters: Sequence[DeadLetter], *, numbered: bool = False) -> Group:
    """Dead letters: id, task, tenant, class, attempts, state, failed-at (relative) and the error, cut to fit."""
    headers = ("id", "task", "tenant", "class", "att", "failed", "state", "error")
    now = time.time()
    rows = []
    for number, letter in enumerate(letters, start=1):
        cells = [
            text(letter.id), text(letter.task), text(letter.tenant),
            text(letter.error_class, CLASS_STYLES.get(letter.error_class, "")), text(letter.attempts),
            text(relative(letter.failed_at, now)),
            text(letter.resolution, "bold" if letter.resolution == "open" else "dim"),
        ]  # fmt: skip
        message = text(one_line(f"{letter.error_type}: {letter.error_message}"), "red")
        rows.append(([text(number), *cells] if numbered else cells, message))
    return listing(("#", *headers) if numbered else headers, rows, optional=("att", "failed", "tenant"))


def job_state(job: Job, now: float) -> str:
    """``scheduled`` for a queued job due later (as ``stats`` counts it), else the job's status."""
    if job.status == "queued" and job.run_at is not None and job.run_at.timestamp() > now:
        return "scheduled"
    return job.status


def jobs_table(jobs: Sequence[Job]) -> Group:
    """Jobs: id, task, state, attempts, when (due, started or finished), queue, tenant, and the last error."""
    now = time.time()
    rows = []
    for job in jobs:
        state = job_state(job, now)
        last = job.errors[-1] if job.errors else None
        cells = [
            text(job.id), text(job.task), text(state, STATUS_STYLES.get(state, "")),
            text(f"{job.attempts}/{job.max_attempts}" if job.max_attempts else job.attempts), text(_when(job, now)),
            text(job.queue), text(job.tenant),
        ]  # fmt: skip
        rows.append((cells, text(one_line(f"{last.error_type}: {last.message}") if last else "", "red")))
    headers = ("id", "task", "state", "att", "when", "queue", "tenant", "last error")
    return listing(headers, rows, optional=("tenant", "att", "queue", "when"))


def _when(job: Job, now: float) -> str:
    """When a queued job is due, a running one started, a finished one finished."""
    if job.status == "queued":
        return relative(job.run_at, now)
    if job.status == "running":
        return relative(job.started_at, now)
    return relative(job.finished_at or job.created_at, now)


def groups_table(groups: Sequence[DeadLetterGroup], by: str) -> Group:
    """Groups of dead letters, largest first, with a sample error."""
    now = time.time()
    rows = [
        ([text(group.value), text(f"{group.count:,}"), text(relative(group.first_seen, now)),
          text(relative(group.last_seen, now)), text(group.sample_id)],
         text(one_line(f"{group.sample_error_type}: {group.sample_message}"), "red"))
        for group in groups
    ]  # fmt: skip
    return listing((by, "count", "first seen", "last seen", "sample", "sample error"), rows, cap=40)
