"""Resuming a redrive from a request, for the API and the dashboard alike.

A redrive runs until its letters run out — throttled, that can take hours — so its run goes on in a thread of its
own and the request only waits a moment for it. If the server stops first, the redrive stays ``running``, exactly
as when any process driving it dies, and a later resume takes it over where it stopped.
"""

from __future__ import annotations

import logging
import threading

from jobq.app import App
from jobq.redrive import RedriveId

WAIT = 1.0
"""Seconds a request waits for a resumed run to end before answering that it goes on."""

log = logging.getLogger("jobq.web")


def resume_in_background(app: App, redrive_id: str, *, by: str, wait: float = WAIT) -> bool:
    """Resume ``redrive_id`` in a daemon thread; True when its run ended within ``wait`` seconds.

    An error within ``wait`` is raised here (the request reports it); a later one is logged, and leaves the
    redrive resumable.
    """
    failures: list[Exception] = []

    def run() -> None:
        try:
            app.dlq.resume_redrive(RedriveId(redrive_id), by=by)
        except Exception as exc:
            failures.append(exc)
            log.exception("redrive %s stopped on an error; resume it to carry on", redrive_id)

    thread = threading.Thread(target=run, name=f"jobq-redrive-{redrive_id}", daemon=True)
    thread.start()
    thread.join(wait)
    if failures:
        raise failures[0]
    return not thread.is_alive()
