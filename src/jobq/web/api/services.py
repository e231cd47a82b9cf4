"""What every handler is given: the queue, the redactor and the limits. Passed in, never global."""

from __future__ import annotations

from dataclasses import dataclass

from jobq.app import App
from jobq.redact import Redactor
from jobq.web.limits import Limits


@dataclass(frozen=True, slots=True)
class Services:
    """The collaborators of the API's handlers."""

    app: App
    redactor: Redactor
    limits: Limits
