"""The JSON API: every endpoint, each handler calling ``App`` or ``app.dlq`` and nothing below them."""

from __future__ import annotations

from jobq.web.api import audit, bulk, control, dead_letters, jobs, overview, redrives, transfer
from jobq.web.api.schemas import COMPONENTS
from jobq.web.api.services import Services
from jobq.web.endpoints import Endpoint

__all__ = ["COMPONENTS", "Services", "endpoints"]


def endpoints(services: Services) -> list[Endpoint]:
    """Every API endpoint (and ``/health``), bound to ``services``."""
    return [
        *overview.endpoints(services),
        *control.endpoints(services),
        *jobs.endpoints(services),
        *dead_letters.endpoints(services),
        *bulk.endpoints(services),
        *transfer.endpoints(services),
        *redrives.endpoints(services),
        *audit.endpoints(services),
    ]
