"""The operator side of storage, written once over a per-database seam (``seam.py``).

Dead letters, the outbox, redrives and their audit trail, the chores (alerts, turns, quota), the operator's view
of the main queue and its controls (cancel, pause), periodic ticks, and dead-lettering itself live here; each
backend keeps only its hot path (enqueue, claim, record, extend, expired leases, wake-ups) and its connections and
migrations.
"""

from __future__ import annotations

from jobq.backends.store.chores import Chores
from jobq.backends.store.control import Control
from jobq.backends.store.dead_letters import DeadLetters
from jobq.backends.store.jobs import Jobs
from jobq.backends.store.outbox import Outbox
from jobq.backends.store.redrives import Redrives
from jobq.backends.store.seam import Seam
from jobq.backends.store.ticks import Ticks


class SQLStore(Jobs, DeadLetters, Outbox, Redrives, Chores, Control, Ticks):
    """Everything but the hot path, for a backend that sets ``_seam``."""

    _seam: Seam


__all__ = ["SQLStore", "Seam"]
