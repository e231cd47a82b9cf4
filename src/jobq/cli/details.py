"""One record in full (a dead letter, a job) and the stats, for people rather than programs."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jobq.cli.listings import job_state
from jobq.cli.output import CLASS_STYLES, STATUS_STYLES, console, plural, show, table, text, timestamp
from jobq.job import DeadLetter, Job

if TYPE_CHECKING:
    from rich.table import Table


def fields_table(rows: Sequence[tuple[str, object]]) -> Table:
    """Name/value pairs, one per line (values are shown as text unless already rich text)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for name, value in rows:
        grid.add_row(name, value if isinstance(value, Text) else text(value))
    return grid


def show_dead_letter(letter: DeadLetter) -> None:
    """One dead letter in full: what it was, why it failed, its payload and every attempt's error."""
    replayed = f"as job {letter.replayed_as}, {timestamp(letter.replayed_at)}" if letter.replayed_as else None
    show(fields_table([
        ("dead letter", letter.id), ("job", letter.job_id), ("task", letter.task), ("queue", letter.queue),
        ("tenant", letter.tenant), ("key", letter.key),
        ("class", text(letter.error_class, CLASS_STYLES.get(letter.error_class, ""))),
        ("fingerprint", letter.fingerprint), ("attempts", f"{letter.attempts} of {letter.max_attempts}"),
        ("failed", timestamp(letter.failed_at)), ("state", letter.resolution), ("replayed", replayed),
        ("note", letter.note), ("error", text(f"{letter.error_type}: {letter.error_message}", "bold red")),
    ]))  # fmt: skip
    _show_payload(letter.payload, letter.payload_note)
    _show_history(letter.errors, final_traceback=letter.error_traceback)


def show_job(job: Job) -> None:
    """One job in full: its state, times, payload and error history."""
    state = job_state(job, time.time())
    show(fields_table([
        ("job", job.id), ("task", job.task), ("queue", job.queue),
        ("state", text(state, STATUS_STYLES.get(state, ""))),
        ("attempts", f"{job.attempts} of {job.max_attempts}" if job.max_attempts else str(job.attempts)),
        ("priority", job.priority), ("tenant", job.tenant), ("key", job.key), ("unique key", job.unique_key),
        ("created", timestamp(job.created_at)), ("due", timestamp(job.run_at)),
        ("started", timestamp(job.started_at)), ("finished", timestamp(job.finished_at)),
        ("worker", job.worker), ("replay of", job.replay_of),
    ]))  # fmt: skip
    _show_payload(job.payload, job.payload_note)
    _show_history(job.errors)


def _show_payload(payload: dict[str, Any], note: str | None) -> None:
    from rich.json import JSON

    console().print(text("\nPayload", "bold"))
    if note is not None:
        console().print(text(note, "bold red"))
    console().print(JSON.from_data(payload, indent=2, ensure_ascii=False))


def _show_history(errors: Sequence[Any], *, final_traceback: str = "") -> None:
    out = console()
    out.print(text(f"\nError history ({plural(len(errors), 'attempt')} failed)", "bold"))
    for error in errors:
        where = ", ".join(part for part in (
            f"worker {error.worker}" if error.worker else "",
            f"{error.duration:.3f} s" if error.duration is not None else "",
        ) if part)  # fmt: skip
        out.print(text(f"#{error.attempt}  {timestamp(error.at)}{f'  ({where})' if where else ''}", "bold"))
        out.print(text(f"    {error.error_type}: {error.message}", "red"))
        if error.traceback:
            out.print(text("    " + error.traceback.rstrip().replace("\n", "\n    "), "dim"), soft_wrap=True)
    if final_traceback and not any(error.traceback == final_traceback for error in errors):
        out.print(text("Final traceback", "bold"))
        out.print(text("    " + final_traceback.rstrip().replace("\n", "\n    "), "dim"), soft_wrap=True)


def show_stats(stats: dict[str, Any]) -> None:
    """The ``stats()`` dict as small tables: the DLQ, recovery, classes, queues and hook deliveries."""
    dlq = stats["dlq"]
    recovery = dlq["recovery"]
    summary = table("total failed", "permanent", "last 24 h", "avg attempts", "pruned", title="Dead-letter queue")
    summary.add_row(*(text(f"{dlq[key]:,}") for key in ("total_failed", "permanent_failures", "last_24h")),
                    text(f"{dlq['avg_retries']:g}"), text(f"{dlq['pruned']:,}"))  # fmt: skip
    show(summary)
    states = table("in recovery", "pending", "recovered", "abandoned", title="Recovery")
    states.add_row(
        *(text(f"{recovery[key]:,}") for key in ("total_in_recovery", "pending_recovery", "recovered", "abandoned"))
    )
    show(states)
    classes = table(*stats["by_class"], title="Dead letters by class")
    classes.add_row(*(text(f"{count:,}", CLASS_STYLES.get(name, "")) for name, count in stats["by_class"].items()))
    show(classes)
    states_order = ("queued", "scheduled", "running", "succeeded", "dead", "cancelled")
    queues = table("queue", *states_order, "paused", title="Queues")
    paused = set(stats.get("paused", ()))
    for name in sorted({*stats["queues"], *paused}):
        counts = stats["queues"].get(name, {})
        queues.add_row(text(name), *(text(f"{counts.get(state, 0):,}") for state in states_order),
                       text("paused", "bold yellow") if name in paused else text(""))  # fmt: skip
    if not stats["queues"] and not paused:
        queues.add_row(text("(no jobs)", "dim"), *("" for _ in states_order), "")
    show(queues)
    hooks = table("pending", "delivered", "failed", title="Hook deliveries")
    hooks.add_row(*(text(f"{stats['hooks'][state]:,}") for state in ("pending", "delivered", "failed")))
    show(hooks)
