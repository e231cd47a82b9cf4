"""Async enqueue: jobs/second from 100 concurrent coroutines, and how late the event loop runs meanwhile.

    .venv/bin/python bench/async_enqueue.py [--backend sqlite|postgres|both] [--jobs 10000] [--rounds 3]

Each variant enqueues ``--jobs`` jobs from 100 coroutines on fresh databases (places.py) while a ping coroutine
wakes every millisecond and records its lateness (p99 and max, ms): what a web server sharing the loop would
feel. Variants: ``app.enqueue_async`` with jobq's own pool of 1, 2, 4 (the default) and 8 threads;
``asyncio.to_thread(app.enqueue)`` (the loop's default executor); and plain ``app.enqueue`` in a loop on one
thread, the synchronous ceiling (no ping: it would hold the loop). The table shows medians of the rounds. This is
a benchmark, not a test (tests/integration/test_async_api.py holds the 5 ms bound).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from places import BACKENDS, POSTGRES_URL, Backend, Place, PostgresPlace, SqlitePlace

import jobq

COROUTINES = 100
Enqueue = Callable[[jobq.App, dict[str, str]], Awaitable[object]]


def _offloaded(app: jobq.App, kwargs: dict[str, str]) -> Awaitable[object]:
    return app.enqueue_async("noop", kwargs)


def _to_thread(app: jobq.App, kwargs: dict[str, str]) -> Awaitable[object]:
    return asyncio.to_thread(app.enqueue, "noop", kwargs)


VARIANTS: dict[str, tuple[int, Enqueue]] = {
    "offload x1": (1, _offloaded),
    "offload x2": (2, _offloaded),
    "offload x4": (4, _offloaded),
    "offload x8": (8, _offloaded),
    "to_thread": (4, _to_thread),
}


async def _pinged(app: jobq.App, jobs: int, enqueue: Enqueue) -> tuple[float, list[float]]:
    lateness: list[float] = []
    done = asyncio.Event()

    async def ping() -> None:
        while not done.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(0.001)
            lateness.append(time.perf_counter() - asked - 0.001)

    async def producer(n: int) -> None:
        for i in range(n, jobs, COROUTINES):
            await enqueue(app, {"n": str(i)})

    pinging = asyncio.create_task(ping())
    started = time.perf_counter()
    await asyncio.gather(*(producer(n) for n in range(COROUTINES)))
    took = time.perf_counter() - started
    done.set()
    await pinging
    return took, lateness


def run_variant(url: str, jobs: int, name: str) -> dict[str, float]:
    threads, enqueue = VARIANTS[name]
    with jobq.App(url, async_threads=threads) as app:
        app.migrate()
        took, lateness = asyncio.run(_pinged(app, jobs, enqueue))
        assert app.counts()["default"]["queued"] == jobs
    return {
        "jobs/s": jobs / took,
        "p99 ms": statistics.quantiles(lateness, n=100)[98] * 1000,
        "max ms": max(lateness) * 1000,
    }


def run_sync(url: str, jobs: int) -> dict[str, float]:
    with jobq.App(url) as app:
        app.migrate()
        started = time.perf_counter()
        for i in range(jobs):
            app.enqueue("noop", {"n": str(i)})
        return {"jobs/s": jobs / (time.perf_counter() - started)}


def place_for(backend: Backend, postgres_url: str) -> Place:
    if backend == "sqlite":
        return SqlitePlace("jobq-bench-async-", None)
    return PostgresPlace("jobq-bench-async-", None, postgres_url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=[*BACKENDS, "both"], default="both")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    options = parser.parse_args()
    backends: list[Backend] = list(BACKENDS) if options.backend == "both" else [options.backend]
    results: dict[tuple[Backend, str], dict[str, list[float]]] = {}
    for round_ in range(1, options.rounds + 1):
        for backend in backends:
            for name in [*VARIANTS, "sync, one thread"]:
                place = place_for(backend, options.postgres_url)
                try:
                    url = place.url(name.replace(" ", "_").replace(",", ""))
                    figures = (
                        run_sync(url, options.jobs) if name.startswith("sync") else run_variant(url, options.jobs, name)
                    )
                finally:
                    place.close()
                print(f"round {round_} {backend} {name}: {figures}", file=sys.stderr, flush=True)
                for key, value in figures.items():
                    results.setdefault((backend, name), {}).setdefault(key, []).append(value)
    print(f"\n{options.jobs:,} jobs from {COROUTINES} coroutines, median of {options.rounds} rounds\n")
    print("| backend | variant | jobs/s | ping p99, ms | ping max, ms |\n|---|---|---|---|---|")
    for (backend, name), series in results.items():
        cells = [f"{statistics.median(series[key]):,.1f}" if key in series else "—"
                 for key in ("jobs/s", "p99 ms", "max ms")]  # fmt: skip
        print(f"| {backend} | {name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
