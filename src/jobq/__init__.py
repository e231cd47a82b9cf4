"""jobq: a persistent background job queue for Python that never loses a failed job."""

from jobq.alerting import Alerting
from jobq.app import App
from jobq.audit import AuditEntry
from jobq.classify import Classifier, Decision, Policy
from jobq.control import CancelCount
from jobq.current import CurrentJob, current_job
from jobq.dlq import DeadLetterQueue, Page, ReplayReport, ReplayResult
from jobq.errors import (
    AlreadyReplayed,
    JobqError,
    JobTimeout,
    NotFound,
    OptionError,
    PayloadError,
    Permanent,
    RedriveStopped,
    Retry,
    StorageError,
    UnknownTask,
    WorkerLost,
)
from jobq.job import (
    AttemptError,
    DeadLetter,
    DeadLetterGroup,
    ErrorClass,
    Job,
    JobId,
    JobStatus,
    PausedQueue,
    Resolution,
)
from jobq.periodic import PeriodicStatus, Schedule
from jobq.quota import Quota
from jobq.recovery import RecoveryPolicy
from jobq.redrive import Redrive, RedriveOutcome
from jobq.retry import Backoff, Exponential, Fixed
from jobq.stats import Alert, Thresholds
from jobq.task import Task
from jobq.worker import Worker, WorkerSummary

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "Alerting",
    "AlreadyReplayed",
    "App",
    "AttemptError",
    "AuditEntry",
    "Backoff",
    "CancelCount",
    "Classifier",
    "CurrentJob",
    "DeadLetter",
    "DeadLetterGroup",
    "DeadLetterQueue",
    "Decision",
    "ErrorClass",
    "Exponential",
    "Fixed",
    "Job",
    "JobId",
    "JobStatus",
    "JobTimeout",
    "JobqError",
    "NotFound",
    "OptionError",
    "Page",
    "PausedQueue",
    "PayloadError",
    "PeriodicStatus",
    "Permanent",
    "Policy",
    "Quota",
    "RecoveryPolicy",
    "Redrive",
    "RedriveOutcome",
    "RedriveStopped",
    "ReplayReport",
    "ReplayResult",
    "Resolution",
    "Retry",
    "Schedule",
    "StorageError",
    "Task",
    "Thresholds",
    "UnknownTask",
    "Worker",
    "WorkerLost",
    "WorkerSummary",
    "__version__",
    "current_job",
]
