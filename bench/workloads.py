"""The queue's workloads, the same on every backend: enqueue, drain, the failure path, wake-up latency.

Each takes a place (fresh databases of one backend) and the sizes, and returns its figures by key.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from queue import Empty

import bench_tasks
from bench_tasks import FAIL, NOOP, REPORT, STAMP, make_app
from harness import BenchError, Sizes, WorkerProcess, fill, p95, peak_rss_mib, queue_counts
from places import Place

import jobq

# -- enqueue ----------------------------------------------------------------------------------------


def enqueue_one_by_one(url: str, durability: str, n: int) -> float:
    app = make_app(url, durability=durability)
    app.migrate()
    noop = app.tasks[NOOP]
    started = time.perf_counter()
    for i in range(n):
        noop.enqueue(i=i)
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if queued != n:
        raise BenchError(f"enqueued {n} jobs one by one ({durability}) but {queued} are queued")
    return n / seconds


def enqueue_batched(url: str, total: int, batch: int) -> float:
    app = make_app(url)
    app.migrate()
    noop = app.tasks[NOOP]
    batches = [[{"i": i} for i in range(start, min(total, start + batch))] for start in range(0, total, batch)]
    started = time.perf_counter()
    for calls in batches:
        noop.enqueue_many(calls)
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if queued != total:
        raise BenchError(f"enqueued {total} jobs in batches but {queued} are queued")
    return total / seconds


def enqueue_from_threads(url: str, threads: int, n: int) -> float:
    """``threads`` producers (a web server's workers) enqueueing one by one at durability=full, at once."""
    app = make_app(url)
    app.migrate()
    noop = app.tasks[NOOP]
    start = threading.Barrier(threads + 1)

    def produce(first: int) -> None:
        start.wait()
        for i in range(first, n, threads):
            noop.enqueue(i=i)

    producers = [threading.Thread(target=produce, args=(first,)) for first in range(threads)]
    for thread in producers:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in producers:
        thread.join()
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if queued != n:
        raise BenchError(f"{threads} threads enqueued {n} jobs but {queued} are queued")
    return n / seconds


def bench_enqueue(place: Place, sizes: Sizes) -> dict[str, float]:
    return {
        "enqueue_full": enqueue_one_by_one(place.url("enqueue_full"), "full", sizes.enqueue_full),
        "enqueue_threads": enqueue_from_threads(place.url("enqueue_threads"), 16, sizes.enqueue_full * 4),
        "enqueue_normal": enqueue_one_by_one(place.url("enqueue_normal"), "normal", sizes.enqueue_normal),
        "enqueue_batched": enqueue_batched(place.url("enqueue_batched"), sizes.batched, sizes.batch),
    }


# -- end-to-end drain, and the failure path -------------------------------------------------------------


def run_burst_workers(place: Place, url: str, *, processes: int, concurrency: int) -> list[dict[str, float]]:
    """Burst workers that start working together (after all opened the database); their RESULTs, each with
    ``wall``: seconds from spawning the processes to this one's exit."""
    spawned = time.perf_counter()
    workers = [
        WorkerProcess(url, place.directory, burst=True, concurrency=concurrency, hold=True) for _ in range(processes)
    ]
    try:
        for worker in workers:
            worker.expect("READY")
        for worker in workers:
            worker.go()
        return [{**worker.finish(), "wall": time.perf_counter() - spawned} for worker in workers]
    finally:
        for worker in workers:
            worker.kill()


def span(results: list[dict[str, float]]) -> float:
    """Seconds from the first worker's start to the last one's end."""
    return max(r["ended_at"] for r in results) - min(r["began_at"] for r in results)


def drain(place: Place, sizes: Sizes, *, processes: int, concurrency: int) -> dict[str, float]:
    """``sizes.drain`` no-op jobs drained by burst workers: jobs/s working, jobs/s from spawning the
    processes, the largest worker's peak RSS (MiB)."""
    url = place.url(f"drain_{processes}x{concurrency}")
    app = make_app(url)
    fill(app, NOOP, sizes.drain)
    results = run_burst_workers(place, url, processes=processes, concurrency=concurrency)
    counts = queue_counts(app)
    app.close()
    succeeded = sum(int(r["succeeded"]) for r in results)
    if succeeded != sizes.drain or counts.get("succeeded") != sizes.drain:
        raise BenchError(f"drain: workers report {results}, database {counts}; expected {sizes.drain} succeeded")
    return {
        "rate": sizes.drain / span(results),
        "wall": sizes.drain / max(r["wall"] for r in results),
        "rss": max(peak_rss_mib(r) for r in results),
    }


def bench_drain(place: Place, sizes: Sizes) -> dict[str, float]:
    """One worker process at concurrency 4, and two at concurrency 8."""
    single = drain(place, sizes, processes=1, concurrency=4)
    double = drain(place, sizes, processes=2, concurrency=8)
    return {"drain": single["rate"], "drain_wall": single["wall"], "drain_rss": single["rss"],
            "drain_2x8": double["rate"]}  # fmt: skip


def bench_failure(place: Place, sizes: Sizes) -> dict[str, float]:
    """Always-failing jobs, 3 attempts, no backoff: every attempt is a recorded failure, a third go to the DLQ."""
    url = place.url("failure")
    app = make_app(url)
    fill(app, FAIL, sizes.failing)
    [result] = run_burst_workers(place, url, processes=1, concurrency=4)
    attempts = result["retried"] + result["dead"]
    letters = app.dlq.count()
    counts = queue_counts(app)
    app.close()
    if (result["dead"], letters, counts.get("dead"), attempts) != (sizes.failing,) * 3 + (3 * sizes.failing,):
        raise BenchError(f"failure path: worker {result}, {letters} dead letters, jobs {counts}")
    return {"failure": attempts / result["seconds"], "failure_rss": peak_rss_mib(result)}


# -- wake-up latency -------------------------------------------------------------------------------------


def idle_pause() -> None:
    """Let the worker go idle (flush, poll) before the next job, at a random phase of its poll."""
    time.sleep(random.uniform(0.01, 0.03))


def wake_same_process(url: str, samples: int) -> list[float]:
    """A worker thread (non-burst) beside the producer: handler start - enqueue, perf_counter, ms."""
    app = make_app(url)
    app.migrate()
    worker = jobq.Worker(app, concurrency=4, burst=False)
    thread = threading.Thread(target=worker.run, kwargs={"install_signal_handlers": False}, daemon=True)
    thread.start()
    stamp = app.tasks[STAMP]
    latencies = []
    try:
        for index in range(samples + 3):  # three warm-ups
            idle_pause()
            sent = time.perf_counter()
            stamp.enqueue()
            try:
                begun = bench_tasks.started.get(timeout=10)
            except Empty:
                raise BenchError("same-process worker did not start a job within 10 s") from None
            if index >= 3:
                latencies.append((begun - sent) * 1000)
    finally:
        worker.stop()
        thread.join(timeout=30)
        app.close()
    return latencies


def wake_other_process(place: Place, url: str, samples: int) -> list[float]:
    """A worker in another process (non-burst): handler start - enqueue, both time.time(), ms."""
    app = make_app(url)
    app.migrate()
    worker = WorkerProcess(url, place.directory, burst=False)
    report = app.tasks[REPORT]
    latencies = []
    try:
        worker.expect("READY")
        for index in range(samples + 3):
            idle_pause()
            report.enqueue(sent_at=time.time())
            latency = float(worker.expect("LATENCY ", timeout=10).split()[1])
            if index >= 3:
                latencies.append(latency * 1000)
    finally:
        if worker.proc.poll() is None:
            worker.terminate()
        app.close()
    return latencies


def bench_wake(place: Place, sizes: Sizes) -> dict[str, float]:
    same = wake_same_process(place.url("wake_same"), sizes.wake_samples)
    other = wake_other_process(place, place.url("wake_other"), sizes.wake_samples)
    return {
        "wake_same_median": statistics.median(same),
        "wake_same_p95": p95(same),
        "wake_other_median": statistics.median(other),
        "wake_other_p95": p95(other),
    }
