"""A dead letter's lineage: the letters before it (whose replays died again as it) and the replays after it.

The core keeps the links both ways: a letter's ``previous_id`` names the letter whose replay died as it, its
``replayed_as`` the job a replay made, and that job's ``replay_of`` the letter again. A job that died has a
letter of its own; the core has no look-up of a letter by job id, so it is found among the few letters of
its task that failed at the moment the job finished (an indexed time range), by its ``job_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from jobq.app import App
from jobq.job import DeadLetter, Job

DEPTH = 12
"""How many generations are followed each way (a letter replayed by hand over and over)."""
MOMENT = timedelta(milliseconds=5)


@dataclass(frozen=True, slots=True)
class Generation:
    """One dead letter of the chain (None when it was purged) and the job its replay became, if any."""

    letter_id: str
    letter: DeadLetter | None
    job_id: str | None
    job: Job | None
    current: bool = False


def lineage(app: App, letter: DeadLetter) -> list[Generation]:
    """Every generation from the first failure to the latest replay, oldest first; ``letter`` is marked current."""
    before: list[Generation] = []
    seen = {letter.id}
    previous_id = letter.previous_id
    while previous_id is not None and previous_id not in seen and len(before) < DEPTH:
        seen.add(previous_id)
        earlier = app.dlq.get(previous_id)
        before.append(_generation(app, previous_id, earlier))
        previous_id = earlier.previous_id if earlier is not None else None
    chain = [*reversed(before), _generation(app, letter.id, letter, current=True)]
    while len(chain) < 2 * DEPTH:
        job = chain[-1].job
        later = letter_of(app, job) if job is not None and job.status == "dead" else None
        if later is None or later.id in seen:
            break
        seen.add(later.id)
        chain.append(_generation(app, later.id, later))
    return chain


def _generation(app: App, letter_id: str, letter: DeadLetter | None, *, current: bool = False) -> Generation:
    job_id = letter.replayed_as if letter is not None else None
    return Generation(letter_id, letter, job_id, app.get_job(job_id) if job_id else None, current)


def letter_of(app: App, job: Job) -> DeadLetter | None:
    """The dead letter a dead job became (None when it was purged, or the job is not dead)."""
    if job.status != "dead" or job.finished_at is None:
        return None
    candidates = app.dlq.list(
        limit=50, task=job.task, queue=job.queue, since=job.finished_at - MOMENT, until=job.finished_at + MOMENT
    )
    return next((candidate for candidate in candidates if candidate.job_id == job.id), None)
