"""The storage contract: what the queue asks of a database, split by who asks it.

Every backend (SQLite, PostgreSQL) implements ``Backend``; one contract test suite runs against each.
All times are unix seconds, passed in by the caller so that one clock decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from jobq.audit import AuditEntry
from jobq.job import (
    CancelResult,
    ClaimedJob,
    DeadLetter,
    DeadLetterGroup,
    DeadLetterId,
    ErrorClass,
    ExpiredLease,
    Job,
    JobId,
    JobStatus,
    Lease,
    NewJob,
    OutboxEntry,
    Outcome,
    PausedQueue,
    Resolution,
)
from jobq.periodic import LastTick
from jobq.redrive import Redrive, RedriveId, RedriveOutcome, RedriveState
from jobq.tally import Key as TallyKey

GroupBy = Literal["fingerprint", "task", "class", "tenant", "queue"]
GROUP_BY: tuple[GroupBy, ...] = ("fingerprint", "task", "class", "tenant", "queue")


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters an operation applies to; ``None`` means any."""

    tenant: str | None = None
    task: str | None = None
    queue: str | None = None
    error_class: ErrorClass | None = None
    fingerprint: str | None = None
    resolution: Resolution | None = None
    since: float | None = None
    until: float | None = None
    search: str | None = None
    unresolved: bool = False
    """Only letters still waiting for someone: ``open`` or ``pending_recovery``."""
    job_id: str | None = None
    """The letter of one job (a job dies at most once: a replay is a new job)."""


@dataclass(frozen=True, slots=True)
class JobFilter:
    """Which jobs a listing shows; ``None`` means any."""

    status: JobStatus | None = None
    queue: str | None = None
    task: str | None = None
    tenant: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterSummary:
    """The raw counts behind ``app.dlq.stats()``."""

    total: int
    permanent: int
    recent: int
    avg_attempts: float
    in_recovery: int
    by_class: dict[str, int]
    by_resolution: dict[str, int]
    pruned: int = 0
    """Letters deleted by the DLQ quota (after archiving), ever."""


class QueueStore(Protocol):
    """What producers and workers need: put jobs in, claim them, record how each attempt ended."""

    def enqueue(self, jobs: Sequence[NewJob], *, connection: Any = None) -> list[JobId]:
        """Store new jobs; a job whose unique key is pending already returns the pending job's id.

        ``connection``: the caller's own open transaction (PostgreSQL), so the jobs commit with it.
        """
        ...

    def claim(self, *, worker: str, queue: str, limit: int, lease: float, now: float) -> list[ClaimedJob]:
        """Atomically take up to ``limit`` due jobs of ``queue``, highest priority first, until ``now + lease``."""
        ...

    def record(self, outcomes: Sequence[Outcome], *, tally: Mapping[TallyKey, float] | None = None) -> list[bool]:
        """Apply outcomes (each fenced by its lease token) and add ``tally`` in one transaction. True where applied."""
        ...

    def record_and_claim(
        self,
        outcomes: Sequence[Outcome],
        *,
        tally: Mapping[TallyKey, float] | None = None,
        worker: str,
        queues: Sequence[str],
        limit: int,
        lease: float,
        now: float,
        durable: bool = True,
        alone: bool = False,
    ) -> tuple[list[bool], list[ClaimedJob]]:
        """``record`` and then ``claim`` up to ``limit`` jobs across ``queues`` (in order), in one transaction.

        A worker claims only the jobs it starts at once, and what finished before them is on record first: a
        crash then charges an attempt only to jobs that were running. ``durable=False`` commits without
        waiting for the disk: as safe from a crash of the worker, undone by a power loss (or a crash of the
        database server) until the next durable commit. With ``alone`` (a worker that runs nothing), a job
        that must run alone — its last attempt was lost with its worker — is claimed first, by itself.
        """
        ...

    def alone_due(self, *, queues: Sequence[str], now: float) -> bool:
        """Is a job that must run alone due in one of ``queues``? (A busy worker then makes room for it.)"""
        ...

    def read_tally(self) -> list[tuple[str, str, float, float]]:
        """Every stored counter and histogram bucket: ``(name, queue, le, value)``."""
        ...

    def extend(self, leases: Sequence[Lease], *, until: float) -> list[Lease]:
        """Renew leases; returns the ones this worker no longer holds."""
        ...

    def cancels_requested(self, leases: Sequence[Lease]) -> list[Lease]:
        """Of these running jobs, the ones an operator asked to stop (one read, however many leases)."""
        ...

    def expired(self, *, now: float, limit: int) -> list[ExpiredLease]:
        """Running jobs whose lease ran out before ``now``."""
        ...

    def next_due(self, *, queue: str) -> float | None:
        """When the earliest queued job of ``queue`` becomes due (None when nothing is queued)."""
        ...

    def wait_for_change(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds until another connection commits work; True if one did.

        PostgreSQL waits on LISTEN/NOTIFY; SQLite polls ``data_version`` every few milliseconds.
        """
        ...

    def due_for_recovery(self, *, now: float, limit: int) -> list[DeadLetterId]:
        """Letters pending recovery whose cool-down has passed, longest due first."""
        ...


class JobReader(Protocol):
    """What operators read and clean up in the main queue."""

    def get_job(self, job_id: JobId) -> Job | None:
        """One job, or None."""
        ...

    def list_jobs(self, where: JobFilter, *, limit: int, cursor: JobId | None) -> list[Job]:
        """Jobs newest first, after ``cursor`` (a job id) when given."""
        ...

    def job_counts(self, *, now: float) -> dict[str, dict[str, int]]:
        """``{queue: {queued, scheduled, running, succeeded, dead}}``; scheduled = queued, due later."""
        ...

    def delete_jobs(self, statuses: Sequence[JobStatus], *, finished_before: float | None) -> int:
        """Delete jobs in these states (finished before a time, when given); returns how many."""
        ...


class QueueControl(Protocol):
    """What operators change in the main queue: cancel jobs, pause and resume queues."""

    def cancel_job(self, job_id: JobId, *, now: float, audit: AuditEntry | None = None) -> CancelResult:
        """Cancel a queued job at once, or ask a running one to stop; ``audit`` is written in the same transaction
        when either happened."""
        ...

    def cancel_jobs(self, where: JobFilter, *, now: float, audit: AuditEntry | None = None) -> tuple[int, int]:
        """Cancel the matching queued jobs and ask the matching running ones to stop, with one ``audit`` entry
        (its detail gets both counts); returns ``(cancelled, stopping)``."""
        ...

    def pause_queue(self, queue: str, *, now: float, by: str | None) -> bool:
        """Stop every worker claiming from ``queue``; False when it was paused already."""
        ...

    def resume_queue(self, queue: str) -> bool:
        """Let workers claim from ``queue`` again (and wake them); False when it was not paused."""
        ...

    def paused_queues(self) -> list[PausedQueue]:
        """Every paused queue, by name."""
        ...

    def queue_known(self, queue: str) -> bool:
        """Does ``queue`` have jobs (of any state), or is it paused?"""
        ...


class PeriodicStore(Protocol):
    """What periodic schedules need: each tick enqueued once, whatever the number of workers."""

    def enqueue_ticks(self, ticks: Sequence[tuple[str, float, NewJob]], *, now: float, keep: float) -> list[JobId]:
        """For each ``(schedule, tick, job)``, in one transaction: record the tick and enqueue its job, unless that
        tick (or a later one of the schedule) is recorded already. Ticks older than ``keep`` seconds before each
        new one are forgotten (never a schedule's latest). Returns the ids of the jobs enqueued."""
        ...

    def last_ticks(self) -> dict[str, LastTick]:
        """Each schedule's latest recorded tick, with its job's state."""
        ...


class DeadLetterStore(Protocol):
    """What the dead-letter queue needs."""

    def list_dead(
        self, where: DeadLetterFilter, *, limit: int, cursor: DeadLetterId | None, with_payload: bool
    ) -> list[DeadLetter]:
        """Dead letters newest first, after ``cursor`` (a dead-letter id) when given."""
        ...

    def get_dead(self, dead_letter_id: DeadLetterId) -> DeadLetter | None:
        """One dead letter with payload and history, or None."""
        ...

    def count_dead(self, where: DeadLetterFilter) -> int:
        """How many dead letters match."""
        ...

    def dead_ids(self, where: DeadLetterFilter, *, limit: int, cursor: DeadLetterId | None) -> list[DeadLetterId]:
        """Ids of matching dead letters, newest first: bulk operations page through these."""
        ...

    def group_dead(self, where: DeadLetterFilter, *, by: GroupBy, limit: int) -> list[DeadLetterGroup]:
        """Matching dead letters grouped by one column, largest group first."""
        ...

    def replay(
        self,
        dead_letter_id: DeadLetterId,
        job: NewJob,
        *,
        force: bool,
        audit: AuditEntry | None = None,
        redrive_id: RedriveId | None = None,
        redrive_owner: str | None = None,
    ) -> JobId:
        """In one transaction: enqueue ``job``, mark the letter replayed as it, count it in the tally, write
        ``audit``; with ``redrive_id``, also count it in that redrive's progress and move its cursor to the letter
        (a redrive replays a letter once, even forced).

        Raises NotFound, AlreadyReplayed unless ``force``, or RedriveStopped when the redrive is no longer
        running under ``redrive_owner`` (cancelled or taken over): the fence that stops a run at once.
        """
        ...

    def abandon(self, dead_letter_id: DeadLetterId, *, note: str | None, audit: AuditEntry | None = None) -> bool:
        """Set an open (or pending-recovery) letter's resolution to ``abandoned``, and write ``audit``, in one
        transaction; False (and no audit entry) when it was not open."""
        ...

    def purge_dead(self, where: DeadLetterFilter, *, audit: AuditEntry | None = None) -> int:
        """Delete matching dead letters, and record ``audit`` with the count in its detail, in one transaction;
        returns how many."""
        ...

    def insert_dead(self, letters: Sequence[DeadLetter]) -> int:
        """Store dead letters as they are (import); ids already present are skipped."""
        ...

    def dead_summary(self, *, since: float) -> DeadLetterSummary:
        """Counts for stats; ``recent`` counts letters that failed at or after ``since``."""
        ...


class OutboxStore(Protocol):
    """What delivering hook events needs: the outbox rows written with dead letters and alerts."""

    def claim_deliveries(self, *, now: float, lease: float, limit: int) -> list[OutboxEntry]:
        """Take due hook deliveries for ``lease`` seconds (one worker each), counting an attempt."""
        ...

    def release_deliveries(self, entry_ids: Sequence[str], *, now: float) -> None:
        """Give back claimed deliveries that were not tried: due at ``now``, the attempt their claim counted undone."""
        ...

    def finish_delivery(
        self, entry_id: str, *, state: str, next_at: float, delivered_to: Sequence[str], error: str | None
    ) -> None:
        """Record how a delivery went: delivered, failed for good, or pending again at ``next_at``."""
        ...

    def outbox_counts(self) -> dict[str, int]:
        """Hook deliveries by state (pending, delivered, failed)."""
        ...


class ChoreStore(Protocol):
    """Chores any worker may do besides running jobs: fire alerts once per storm (and see which failures are
    new), keep the DLQ within bounds."""

    def fire_alerts(
        self,
        crossed: Sequence[str],
        *,
        now: float,
        quiet: float,
        compose: Callable[[list[str]], Sequence[Mapping[str, Any]]],
    ) -> list[str]:
        """In one transaction: fire the ``crossed`` alerts of which no storm is going on, and put
        ``compose(fired)`` in the outbox as alert events. A storm starts when an alert fires and ends once
        the alert has stayed clear (not crossed) for ``quiet`` seconds. Returns the names that fired: racing
        workers fire each alert once.
        """
        ...

    def new_fingerprints(self, *, since: float) -> list[tuple[str, float, int]]:
        """Fingerprints first seen at or after ``since``: ``(fingerprint, first seen, letters)``."""
        ...

    def claim_chore(self, name: str, *, now: float, every: float) -> bool:
        """Take the turn of a chore all workers share, due every ``every`` seconds: True for one worker a turn."""
        ...

    def prune_dead(
        self, *, keep: int | None, before: float | None, limit: int, archive: Callable[[list[DeadLetter]], object]
    ) -> int:
        """Delete up to ``limit`` of the oldest letters beyond the newest ``keep`` or failed before ``before``
        (never one pending recovery), counting them in the tally as ``dlq_pruned``: all in one transaction,
        after ``archive`` returned with them (if it raises, nothing is deleted). Returns how many."""
        ...


class RedriveStore(Protocol):
    """What tracked redrives (``replay_many`` by filter) and the dead letters' audit trail need."""

    def start_redrive(self, redrive: Redrive) -> None:
        """Record a new redrive, driven by ``redrive.owner``."""
        ...

    def get_redrive(self, redrive_id: RedriveId) -> Redrive | None:
        """One redrive with its progress, or None."""
        ...

    def list_redrives(self, *, limit: int, cursor: RedriveId | None) -> list[Redrive]:
        """Redrives newest first, after ``cursor`` (a redrive id) when given."""
        ...

    def take_redrive(self, redrive_id: RedriveId, *, owner: str, now: float) -> Redrive | None:
        """Make ``owner`` drive a redrive that is not finished (cancelled, or running though its runner may be
        gone), in state running; None when it is finished or missing."""
        ...

    def skip_in_redrive(self, redrive_id: RedriveId, *, owner: str, cursor: DeadLetterId, now: float) -> bool:
        """Count a letter the redrive passed over and move its cursor to it; False when ``owner`` no longer
        drives it (it was cancelled or taken over)."""
        ...

    def stop_redrive(self, redrive_id: RedriveId, *, state: RedriveState, owner: str | None, now: float) -> bool:
        """Move a running redrive to ``state`` (only if ``owner`` drives it, when given); False when it was not
        running."""
        ...

    def redrive_outcome(self, redrive_id: RedriveId) -> list[RedriveOutcome]:
        """What became of the jobs the redrive made (succeeded, died again and how, pending), by fingerprint."""
        ...

    def audit_trail(self, dead_letter_id: DeadLetterId) -> list[AuditEntry]:
        """Every audit entry of a dead letter, oldest first."""
        ...

    def audit_log(self, *, limit: int, cursor: str | None) -> list[AuditEntry]:
        """Every audit entry (purges too), newest first, after ``cursor`` (an entry id) when given."""
        ...


class DlqStore(DeadLetterStore, RedriveStore, Protocol):
    """What ``app.dlq`` needs: the dead letters, their redrives and their audit trail."""


class AlertStore(DeadLetterStore, ChoreStore, Protocol):
    """What raising alerts needs: the dead letters' counts and groups, and the storms on record."""


class WorkerChoreStore(AlertStore, OutboxStore, PeriodicStore, Protocol):
    """What a worker's chores need: the outbox to deliver, alerts to raise, the DLQ quota to keep, periodic ticks
    to enqueue."""


class WorkerStore(QueueStore, WorkerChoreStore, Protocol):
    """What a worker needs: its queue, and the chores it does besides running jobs."""


class Backend(QueueStore, JobReader, QueueControl, DlqStore, WorkerChoreStore, Protocol):
    """A whole database behind jobq."""

    url: str

    def migrate(self) -> int:
        """Bring the schema to the newest version; returns it. Safe to run from many processes."""
        ...

    def close(self) -> None:
        """Release every connection."""
        ...
