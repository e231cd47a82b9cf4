"""The domain records: jobs, their attempt errors and dead letters. Plain frozen values, no I/O."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NewType

JobId = NewType("JobId", str)
DeadLetterId = NewType("DeadLetterId", str)

JobStatus = Literal["queued", "running", "succeeded", "dead", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running", "succeeded", "dead", "cancelled")

ErrorClass = Literal["recoverable", "user_error", "system_error", "unknown"]
ERROR_CLASSES: tuple[ErrorClass, ...] = ("recoverable", "user_error", "system_error", "unknown")

Resolution = Literal["open", "pending_recovery", "replayed", "recovered", "abandoned"]
RESOLUTIONS: tuple[Resolution, ...] = ("open", "pending_recovery", "replayed", "recovered", "abandoned")

Payload = dict[str, Any]
"""A job's arguments as stored: ``{"args": [...], "kwargs": {...}}``, JSON only."""


@dataclass(frozen=True, slots=True)
class AttemptError:
    """One failed attempt of a job, as kept in its error history."""

    attempt: int
    at: datetime
    error_type: str
    message: str
    traceback: str = ""
    worker: str | None = None
    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """One call of a task, in whatever state it is now."""

    id: JobId
    task: str
    queue: str
    status: JobStatus
    payload: Payload
    attempts: int
    max_attempts: int | None
    """None: the task's own ``max_attempts`` applies (the job was enqueued by name, without the task)."""
    priority: int = 0
    tenant: str | None = None
    key: str | None = None
    unique_key: str | None = None
    errors: tuple[AttemptError, ...] = ()
    created_at: datetime | None = None
    run_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    worker: str | None = None
    replay_of: DeadLetterId | None = None
    payload_note: str | None = None
    """Why ``payload`` is shown empty: the stored text breaks the payload rule (None: it is the payload)."""
    result: Any = None
    """What the handler returned, once ``succeeded`` (None also when it returned a value that is not JSON)."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A job that failed for good, with everything needed to understand and replay it."""

    id: DeadLetterId
    job_id: JobId
    task: str
    queue: str
    payload: Payload
    attempts: int
    max_attempts: int
    error_type: str
    error_message: str
    error_traceback: str
    error_class: ErrorClass
    fingerprint: str
    failed_at: datetime
    tenant: str | None = None
    key: str | None = None
    priority: int = 0
    errors: tuple[AttemptError, ...] = ()
    resolution: Resolution = "open"
    replayed_at: datetime | None = None
    replayed_as: JobId | None = None
    note: str | None = None
    created_at: datetime | None = None
    recover_at: datetime | None = None
    """When the recovery queue replays it (``pending_recovery`` only)."""
    recovery_round: int | None = None
    """How many automatic replays came before it (None: never in the recovery queue)."""
    previous_id: DeadLetterId | None = None
    """The dead letter whose replay died again as this one."""
    payload_note: str | None = None
    """Why ``payload`` is shown empty: the stored text breaks the payload rule (None: it is the payload)."""


@dataclass(frozen=True, slots=True)
class DeadLetterGroup:
    """Dead letters sharing one value (a fingerprint, task, class, tenant or queue)."""

    value: str | None
    count: int
    first_seen: datetime
    last_seen: datetime
    sample_id: DeadLetterId
    sample_error_type: str
    sample_message: str


@dataclass(slots=True)  # not frozen: built once per enqueue, where frozen's __setattr__ detour costs 1-2 µs
class NewJob:
    """What a producer hands the store: a job before it has a state."""

    id: JobId
    task: str
    queue: str
    payload: Payload
    max_attempts: int | None
    run_at: float
    created_at: float
    priority: int = 0
    tenant: str | None = None
    key: str | None = None
    unique_key: str | None = None
    replay_of: DeadLetterId | None = None
    payload_text: str | None = None
    """``payload`` as the JSON text to store, when the producer encoded it already (None: encode on insert)."""


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's hold on a running job; ``token`` fences every write the worker makes about it."""

    job_id: JobId
    token: int


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a worker has just claimed: what it needs to run it, and the lease that fences it."""

    lease: Lease
    task: str
    queue: str
    payload: Payload
    attempts: int
    max_attempts: int | None
    tenant: str | None = None
    key: str | None = None
    created_at: float = 0.0
    run_at: float = 0.0
    unreadable: str | None = None
    """Why the stored payload cannot be read (a row written by hand or by an older version); None: it can."""
    alone: bool = False
    """Its last attempt was lost with its worker: it runs alone, so that if it kills its worker again it is
    the only job lost (and the jobs lost beside it the first time run safely)."""


@dataclass(frozen=True, slots=True)
class ExpiredLease:
    """A running job whose lease ran out: its worker is presumed lost."""

    lease: Lease
    task: str
    queue: str
    attempts: int
    max_attempts: int | None
    worker: str | None
    started_at: float | None


@dataclass(frozen=True, slots=True)
class Succeeded:
    """Outcome: the attempt returned."""

    lease: Lease
    at: float
    result: str | None = None
    """What the handler returned, as JSON text (None: nothing to keep)."""


@dataclass(frozen=True, slots=True)
class RetryLater:
    """Outcome: the attempt failed and the job runs again at ``run_at``."""

    lease: Lease
    error: AttemptError
    run_at: float
    expired_at: float | None = None
    """Set when rescuing a lost worker's job: apply only if the lease is still expired at this time."""


@dataclass(frozen=True, slots=True)
class DeadLettered:
    """Outcome: the attempt failed for good; the job moves to the DLQ as ``dead_letter_id``."""

    lease: Lease
    error: AttemptError
    error_class: ErrorClass
    fingerprint: str
    dead_letter_id: DeadLetterId
    at: float
    max_attempts: int
    expired_at: float | None = None
    """As for RetryLater: a rescue applies only to a lease that is still expired."""
    recovery: tuple[float, ...] = ()
    """The recovery queue's cool-down per round (see jobq.recovery); empty: no automatic replays."""
    hooks: tuple[str, ...] = ()
    """Hook kinds to put in the outbox with the dead letter (on_dead, notify, alert); empty: no hooks."""


@dataclass(frozen=True, slots=True)
class Released:
    """Outcome: the job never really ran (shutdown); it returns to the queue without using an attempt."""

    lease: Lease


@dataclass(frozen=True, slots=True)
class Cancelled:
    """Outcome: an operator cancelled the job while it ran, and its handler stopped; kept as ``cancelled``, never
    charged as a failure nor dead-lettered."""

    lease: Lease
    at: float


Outcome = Succeeded | RetryLater | DeadLettered | Released | Cancelled


@dataclass(frozen=True, slots=True)
class PausedQueue:
    """A queue no worker claims from until it is resumed."""

    queue: str
    paused_at: datetime
    paused_by: str | None = None


CancelResult = Literal["cancelled", "stopping", "finished", "missing"]
"""What cancelling one job did: cancelled at once (it was queued), asked to stop (running), nothing (it had
finished), or nothing (no such job)."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A hook delivery a worker has claimed from the outbox."""

    id: str
    kind: str
    dead_letter_id: DeadLetterId | None
    created_at: float
    attempts: int
    delivered_to: tuple[str, ...]
    """Sinks that already have it: a retry goes only to the others."""
    data: dict[str, Any] | None = None
    """An alert's event data (alerts are about no one dead letter); None for a dead letter's hooks."""
    letter: DeadLetter | None = None
    """A dead letter's hooks: the letter as written with the event (None in an entry an older jobq wrote)."""


# -- ids ------------------------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [first + second for first in _CROCKFORD for second in _CROCKFORD]  # every 10-bit value → 2 characters


@dataclass
class _IdState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_ms: int = -1
    last_random: int = 0


_id_state = _IdState()


def new_id() -> str:
    """A ULID: 26 characters that sort by creation time (monotonic within a process)."""
    return new_ids(1)[0]


def new_ids(count: int) -> list[str]:
    """``count`` ULIDs in increasing order, for one batch: one clock read, one lock, one call for randomness."""
    ms = time.time_ns() // 1_000_000
    with _id_state.lock:
        if ms <= _id_state.last_ms:
            # Same millisecond (or the clock stepped back): keep order by counting up the random part.
            ms = _id_state.last_ms
            first = _id_state.last_random + 1
        else:
            first = int.from_bytes(os.urandom(10), "big") >> 1  # room to count up
        _id_state.last_ms, _id_state.last_random = ms, first + count - 1
    pairs = _PAIRS
    shifts = range(120, -1, -10)
    return [
        "".join([pairs[(value >> shift) & 1023] for shift in shifts])
        for value in range((ms << 80) | first, ((ms << 80) | first) + count)
    ]  # 128 bits, written as 130 with two leading zeros: 13 pairs
