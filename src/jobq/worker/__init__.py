"""The worker: claims due jobs, runs them, records how each attempt ended, keeps leases alive.

One module a noun:
- ``loop``: the Worker and its loop — claiming, starting, finishing, stopping;
- ``app``: what a worker reads of its app (``WorkerApp``), once, to hand each part its port;
- ``runners``: the threads and the event loop that run handlers;
- ``recorder``: outcomes on their way to the database;
- ``leases``: the leases held, and the heartbeat that renews them;
- ``rescue``: work no live worker holds (jobs of vanished workers, the recovery queue);
- ``failure``: how a failed attempt becomes a retry or a dead letter;
- ``chores``: hooks, alerts and the DLQ quota, in a thread of their own.
"""

from jobq.worker.loop import STOP_SIGNALS, Worker, WorkerSummary

__all__ = ["STOP_SIGNALS", "Worker", "WorkerSummary"]
