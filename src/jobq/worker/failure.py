"""One attempt's failure turned into a decision: retry at a time, or dead-letter with a class.

This is the whole failure path, in one place: describe the error → classify it (task overrides first,
then the app's policy and defaults) → retry while attempts remain and the class allows, else dead-letter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from jobq.classify import Classifier, Decision, http_status
from jobq.clock import to_datetime
from jobq.errors import UnknownTask
from jobq.fingerprint import MESSAGE_LIMIT, bounded, describe, failing_frame, fingerprint, storable_text
from jobq.hooks.events import kinds_for_class
from jobq.job import AttemptError, ClaimedJob, DeadLettered, DeadLetterId, RetryLater, new_id
from jobq.redact import Redactor
from jobq.retry import DEFAULT_BACKOFF, Backoff, Exponential
from jobq.task import TaskOptions

log = logging.getLogger("jobq.worker")

DEFAULT_MAX_ATTEMPTS = 3
"""For a job enqueued by name whose task this worker does not know either."""
UNKNOWN_TASK_ATTEMPTS = 8
UNKNOWN_TASK_BACKOFF: Backoff = Exponential(base=10.0, factor=2.0, cap=600.0, jitter=False)
"""A job whose task this worker does not know waits out a rolling deploy (a producer deployed before the workers
that know its task): 10 s, 20 s ... 10 min, about 20 minutes in all, then its dead letter (a typo'd name)."""
TRACEBACK_LIMIT = 8192
"""The most of a traceback kept per attempt (SPEC 2: bounded)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """Who ran which attempt of a job, and when."""

    job: ClaimedJob
    worker: str
    started: float


def decide(options: TaskOptions | None, exc: BaseException, classifier: Classifier, now: float) -> Decision:
    """The class and action for ``exc``: the task's ``dead_on``/``retry_on`` win over the classifier."""
    decision = classifier(exc, now)
    if options is not None and isinstance(exc, options.dead_on):
        return Decision(decision.error_class, "dead")
    if options is not None and isinstance(exc, options.retry_on):
        return Decision(decision.error_class, "retry", decision.delay)
    return decision


def failure_outcome(
    attempt: Attempt,
    exc: BaseException,
    *,
    options: TaskOptions | None,
    classifier: Classifier,
    now: float,
    expired_at: float | None = None,
    recovery: tuple[float, ...] = (),
    with_hooks: bool = False,
    redactor: Redactor | None = None,
) -> RetryLater | DeadLettered:
    """What happens to a job whose attempt raised ``exc`` (``options`` is None for an unknown task).

    With a ``redactor``, the error message and traceback are redacted before they are stored.
    """
    job = attempt.job
    error_type, message, traceback = describe(exc, limit=TRACEBACK_LIMIT)
    # Redacted before it is stored, where PII leaks most; the fingerprint below still hashes the raw message
    # (it reveals nothing, and a failure must stay in its group whether or not redaction is on).
    stored_message, stored_traceback = _redacted(redactor, message, traceback) if redactor else (message, traceback)
    error = AttemptError(
        attempt=job.attempts,
        at=to_datetime(now),
        error_type=error_type,
        message=stored_message,
        traceback=stored_traceback,
        worker=storable_text(attempt.worker),
        duration=max(0.0, now - attempt.started),
    )
    decision = decide(options, exc, classifier, now)
    max_attempts, backoff = _schedule(job, options, exc)
    if decision.action == "retry" and job.attempts < max_attempts:
        delay = decision.delay if decision.delay is not None else _backoff(backoff, job.attempts)
        return RetryLater(job.lease, error, run_at=now + delay, expired_at=expired_at)
    return DeadLettered(
        job.lease,
        error,
        error_class=decision.error_class,
        fingerprint=_fingerprint(exc, error_type, message),
        dead_letter_id=DeadLetterId(new_id()),
        at=now,
        max_attempts=max_attempts,
        expired_at=expired_at,
        recovery=recovery,
        hooks=kinds_for_class(decision.error_class) if with_hooks else (),
    )


def _redacted(redactor: Redactor, message: str, traceback: str) -> tuple[str, str]:
    """Message and traceback redacted, and bounded again: a marker can be longer than what it hides."""
    message, traceback = redactor.texts([message, traceback])
    return bounded(message, MESSAGE_LIMIT), bounded(traceback, TRACEBACK_LIMIT)


def _fingerprint(exc: BaseException, error_type: str, message: str) -> str:
    # The HTTP status joins the type: a 404 and a 422 from one call site are different failures, even when
    # the client's message hides the status inside a quoted string that normalisation blanks out.
    status = http_status(exc)
    return fingerprint(f"{error_type} {status}" if status else error_type, message, failing_frame(exc))


def _schedule(job: ClaimedJob, options: TaskOptions | None, exc: BaseException) -> tuple[int, Backoff]:
    """The most attempts of the job and the backoff between them."""
    if isinstance(exc, UnknownTask):
        # Not a failure of the handler, which never ran: whatever the task's own limit, wait out a deploy.
        return max(job.max_attempts or 0, UNKNOWN_TASK_ATTEMPTS), UNKNOWN_TASK_BACKOFF
    if options is None:  # a lost worker's job, rescued by a worker that does not know its task
        return job.max_attempts or DEFAULT_MAX_ATTEMPTS, DEFAULT_BACKOFF
    return job.max_attempts or options.max_attempts, options.backoff


def _backoff(backoff: Backoff, attempt: int) -> float:
    """The delay before the next attempt; a custom policy that fails falls back to the default."""
    try:
        return backoff.delay(attempt)
    except Exception:
        log.exception("Backoff policy %r failed for attempt %d; using the default", backoff, attempt)
        return DEFAULT_BACKOFF.delay(attempt)


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """The settings of a worker that every failure of its attempts is decided by."""

    classifier: Classifier
    recovery: tuple[float, ...] = ()
    with_hooks: bool = False
    redactor: Redactor | None = None
    """Set when failures are redacted before they are stored (``App(redact_at_rest=True)``)."""

    def outcome(
        self,
        attempt: Attempt,
        exc: BaseException,
        options: TaskOptions | None,
        now: float,
        *,
        expired_at: float | None = None,
    ) -> RetryLater | DeadLettered:
        """What happens to the job whose attempt raised ``exc`` (``options``: None for an unknown task)."""
        return failure_outcome(
            attempt, exc, options=options, classifier=self.classifier, now=now, expired_at=expired_at,
            recovery=self.recovery, with_hooks=self.with_hooks, redactor=self.redactor,
        )  # fmt: skip
