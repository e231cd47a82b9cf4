"""``jobq clear``: delete jobs in some states (finished ones, usually), after saying how many."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import cast

import click

from jobq.app import App
from jobq.cli.bulk import run_counted
from jobq.cli.context import Context
from jobq.cli.options import Safety, json_option, option, safety_options
from jobq.cli.params import Duration, format_duration
from jobq.job import Job, JobStatus

CLEARABLE = ("succeeded", "dead", "queued")
PAGE = 1_000


def _statuses(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> list[JobStatus]:
    names = [name.strip() for item in value for name in item.split(",") if name.strip()]
    if not names:
        raise click.BadParameter(f"give at least one of {', '.join(CLEARABLE)}", ctx, param)
    wrong = [name for name in names if name not in CLEARABLE]
    if wrong:
        raise click.BadParameter(f"{', '.join(wrong)}: choose among {', '.join(CLEARABLE)}", ctx, param)
    return cast(list[JobStatus], list(dict.fromkeys(names)))


@click.command()
@option("--status", "-s", "status", multiple=True, callback=_statuses, metavar="STATE[,STATE]",
        help="succeeded, dead or queued (repeat or comma-separate).")  # fmt: skip
@option("--older-than", type=Duration(bare_unit=None),
        help="Only jobs that finished (or, queued, were created) longer ago than this, e.g. 7d.")  # fmt: skip
@safety_options
@json_option
@click.pass_obj
def clear(ctx: Context, status: list[JobStatus], older_than: timedelta | None, safety: Safety) -> None:
    """Delete jobs in some states, after a count and a question.

    Running jobs are never deleted; dead letters stay in the DLQ (see `jobq dlq purge`).
    """
    app = ctx.app()
    statuses = status
    when = f" older than {format_duration(older_than)}" if older_than else ""
    run_counted(
        ctx, matched=_count(app, statuses, older_than), noun="job", past="deleted", safety=safety,
        question=f"Delete these {'/'.join(statuses)} jobs{when} for good?",
        change=lambda: app.clear(statuses, older_than=older_than),
    )  # fmt: skip


def _count(app: App, statuses: list[JobStatus], older_than: timedelta | None) -> int:
    """How many jobs ``app.clear`` would delete (``app.counts()``, or a scan by age)."""
    if older_than is None:
        queues = app.counts().values()
        per_state = {status: sum(counts[status] for counts in queues) for status in statuses}
        if "queued" in per_state:
            per_state["queued"] += sum(counts["scheduled"] for counts in queues)
        return sum(per_state.values())
    cutoff = time.time() - older_than.total_seconds()
    count = 0
    for status in statuses:
        cursor: str | None = None
        while True:
            page = app.list_jobs(status=status, limit=PAGE, cursor=cursor)
            count += sum(1 for job in page if _finished(job) < cutoff)
            if len(page) < PAGE:
                break
            cursor = page[-1].id
    return count


def _finished(job: Job) -> float:
    moment = job.finished_at or job.created_at
    return moment.timestamp() if moment is not None else 0.0
