"""A redrive in the terminal: its id as soon as it starts, a progress bar, Ctrl-C as a cancel, and a summary.

``jobq dlq replay --all`` starts one and ``jobq dlq redrives resume`` continues one; both run it with ``drive``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from jobq.app import App
from jobq.cli.bulk import Result, report, resolution_of, say
from jobq.cli.context import Context
from jobq.cli.output import plural, progress
from jobq.dlq import ReplayReport, ReplayResult
from jobq.errors import JobqError
from jobq.redrive import Redrive, RedriveId

Start = Callable[[Callable[[ReplayResult], None], Callable[[Redrive], None]], ReplayReport]
"""Starts or resumes the redrive with ``(progress, started)``: ``started`` once it is recorded, ``progress``
after each letter."""


def resume_hint(redrive_id: str) -> str:
    """How to go on with a stopped redrive."""
    return f"resume with `jobq dlq redrives resume {redrive_id}`"


@dataclass
class Run:
    """The redrive this command drives: its id once known, and what it did to each letter so far."""

    ctx: Context
    app: App
    redrive_id: str | None = None
    owner: str | None = None
    results: list[ReplayResult] = field(default_factory=list)

    def started(self, redrive: Redrive) -> None:
        """The redrive is recorded: name a new one at once (to cancel or resume it from another terminal)."""
        self.owner = redrive.owner
        if self.redrive_id is None:
            self.redrive_id = redrive.id
            say(self.ctx, f"Redrive {redrive.id} started: {plural(redrive.matched, 'dead letter')} match; "
                          f"`jobq dlq redrives cancel {redrive.id}` stops it.")  # fmt: skip

    def step(self, result: ReplayResult) -> None:
        """After each letter: keep what happened."""
        self.results.append(result)


def drive(ctx: Context, app: App, count: int, start: Start, *, redrive_id: str | None = None) -> None:
    """Run ``start`` with a progress bar over ``count`` letters; report each letter, the redrive's state and how
    to resume it. Exit 130 on Ctrl-C (the core cancels the redrive), 1 when it did not replay everything."""
    run = Run(ctx, app, redrive_id)
    interrupted = False
    try:
        with progress(count, "Replaying") as advance:

            def step(result: ReplayResult) -> None:
                run.step(result)
                advance()

            start(step, run.started)
    except KeyboardInterrupt:
        interrupted = True
    except JobqError as exc:
        if not run.results or run.redrive_id is None:
            raise
        # The core leaves the redrive running, as a crash would: a resume takes it over where it stopped.
        raise JobqError(f"{exc} (redrive {run.redrive_id} stopped; {resume_hint(run.redrive_id)})") from exc
    redrive = app.dlq.get_redrive(RedriveId(run.redrive_id)) if run.redrive_id else None
    results = [_result(app, result) for result in run.results]
    extra = {"redrive_id": run.redrive_id, "state": redrive.state if redrive else None}
    report(ctx, count, "replayed", results, interrupted=interrupted, extra=extra)
    if redrive is not None:
        say(ctx, state_line(redrive, run.owner))
    if interrupted:
        sys.exit(130)
    if redrive is None or redrive.state != "finished" or any(result.outcome != "replayed" for result in results):
        sys.exit(1)


def state_line(redrive: Redrive, owner: str | None = None) -> str:
    """``Redrive <id> finished: 9 replayed, 0 skipped of 9 matched.``, with what to do next when it stopped."""
    line = (
        f"Redrive {redrive.id} {redrive.state}: {redrive.replayed:,} replayed, {redrive.skipped:,} skipped "
        f"of {redrive.matched:,} matched"
    )
    if redrive.state == "finished":
        return f"{line}."
    if redrive.state == "running" and redrive.owner != owner:
        return f"{line}; another run drives it now (`jobq dlq redrives show {redrive.id}`)."
    return f"{line}; {resume_hint(redrive.id)}."


def _result(app: App, result: ReplayResult) -> Result:
    """A letter of the redrive as a line of the report; one it skipped was changed by someone else meanwhile."""
    if result.outcome == "replayed":
        return Result(result.dead_letter_id, "replayed", job_id=result.job_id)
    if result.outcome == "not_found":
        return Result(result.dead_letter_id, "not_found", note="skipped: purged since it matched")
    if result.outcome == "unreadable_payload":
        return Result(result.dead_letter_id, "unreadable_payload", note="skipped: unreadable payload")
    note = f"skipped: already {resolution_of(app, result.dead_letter_id)}"
    return Result(result.dead_letter_id, "already_replayed", note=note)
