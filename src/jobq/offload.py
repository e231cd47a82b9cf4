"""The synchronous API for ``async`` callers: a call runs on a few threads of jobq's own, so the caller's event
loop goes on with other work while the database answers.

One core, one thin adapter (STYLE: never every operation written twice): ``enqueue_async`` and the async reads
are the synchronous calls, handed to these threads. A pool of its own rather than the loop's default executor,
so that jobq's calls neither queue behind the application's ``to_thread`` work nor hold its threads;
``bench/async_enqueue.py`` compares the sizes and ``asyncio.to_thread``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def default_threads(url: str) -> int:
    """SQLite takes one writer at a time: more threads only queue for its lock (1 thread enqueued the most in
    bench/async_enqueue.py). PostgreSQL takes them in parallel: 4 threads enqueued about twice what 1 did, with
    the loop's p99 lateness still a few milliseconds (8 enqueued a little more, with longer pauses)."""
    return 1 if url.startswith("sqlite:") else 4


class Offload:
    """Runs synchronous calls for coroutines on a small pool of threads, started on first use."""

    def __init__(self, threads: int) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, not {threads!r}")
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def __call__(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """``fn(*args, **kwargs)`` on one of the threads, awaited without blocking the running loop."""
        return await asyncio.get_running_loop().run_in_executor(self._executor(), partial(fn, *args, **kwargs))

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="jobq-offload")
        return self._pool

    def close(self) -> None:
        """Let the calls under way finish, then end the threads (a later call starts new ones)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
