"""The dashboard on a big DLQ: median render times of its pages with 100,000 dead letters (a benchmark, not a test).

    .venv/bin/python bench/dashboard.py [--letters 100000] [--runs 15]

Builds the letters with ``app.backend.insert_dead`` in a temporary SQLite file — realistic ones: ids in
failure order over 30 days, three attempts of history each, 10 tasks, 50 tenants, 200 fingerprints, every
resolution — then requests each page through the ASGI application (no network) and prints medians. The
target: the list and group pages under 200 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import httpx

import jobq
from jobq.job import AttemptError, DeadLetter, DeadLetterId, ErrorClass, JobId, Resolution
from jobq.web import Limits, create_app

TOKEN = "bench-token-0123456789abcdef"
TARGET_MS = 200.0
TASKS = [f"shop.task{n}" for n in range(10)]
TENANTS = [f"tenant-{n}" for n in range(50)]
CLASSES: list[ErrorClass] = ["recoverable", "user_error", "system_error", "unknown"]
RESOLUTIONS = cast(
    list[Resolution], ["open"] * 14 + ["pending_recovery"] * 2 + ["replayed"] * 2 + ["abandoned", "recovered"]
)
ERRORS = [
    ("httpx.ReadTimeout", "timed out reading from the provider for message {i}"),
    ("shop.ProviderError", "HTTP 429: too many requests for message {i}"),
    ("shop.ProviderError", "HTTP 400: invalid phone number +1555{i:07d}"),
    ("RuntimeError", "chart renderer crashed on scene {i} (contact ops@example.com)"),
    ("KeyError", "'site-{i}'"),
]
TRACEBACK = (
    'Traceback (most recent call last):\n  File "/srv/shop/jobq/worker.py", line 336, in _runner\n'
    '    task.fn(*args, **kwargs)\n  File "/srv/shop/tasks.py", line 42, in send\n    provider.send(to, body)\n'
)
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_at(seconds: float, serial: int) -> str:
    """A sortable id of that moment, as ``jobq.job.new_id`` would have made it then."""
    value = (int(seconds * 1000) << 80) | (serial * 2654435761 % (1 << 80))
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(125, -1, -5))


def letters(count: int, *, now: float, seed: int = 7) -> list[DeadLetter]:
    """``count`` dead letters failed over the last 30 days, oldest first."""
    chooser = random.Random(seed)
    moments = sorted(now - chooser.uniform(0, 30 * 86_400) for _ in range(count))
    made = []
    for i, moment in enumerate(moments):
        error_type, template = ERRORS[i % len(ERRORS)]
        message = template.format(i=i)
        failed_at = datetime.fromtimestamp(moment, UTC)
        history = tuple(
            AttemptError(n, failed_at, error_type, message, f"{TRACEBACK}{error_type}: {message}\n", "web-1:42", 0.02)
            for n in (1, 2, 3)
        )
        resolution = chooser.choice(RESOLUTIONS)
        made.append(DeadLetter(
            id=DeadLetterId(ulid_at(moment, i)), job_id=JobId(ulid_at(moment - 1, i)), task=TASKS[i % len(TASKS)],
            queue="default" if i % 3 else "sms", payload={"args": [], "kwargs": {"to": f"+1555{i:07d}", "n": i}},
            attempts=3, max_attempts=3, error_type=error_type, error_message=message,
            error_traceback=history[-1].traceback, error_class=CLASSES[i % len(CLASSES)],
            fingerprint=f"{i % 200:016x}", failed_at=failed_at, tenant=TENANTS[i % len(TENANTS)], key=f"key-{i}",
            errors=history, resolution=resolution, created_at=failed_at,
            replayed_at=failed_at if resolution in ("replayed", "recovered") else None,
        ))  # fmt: skip
    return made


def build(path: Path, count: int) -> jobq.App:
    """The database: ``count`` dead letters and a few thousand jobs."""
    app = jobq.App(f"sqlite:///{path}", durability="normal")
    made = letters(count, now=time.time())
    for start in range(0, len(made), 5000):
        app.backend.insert_dead(made[start : start + 5000])
    app.enqueue_many("shop.task0", [{"n": n} for n in range(5000)], tenant="tenant-1")
    return app


async def measure(app: jobq.App, pages: dict[str, str], runs: int) -> dict[str, list[float]]:
    """Each page ``runs`` times (after two warm-up requests), through the ASGI app; milliseconds."""
    asgi = create_app(app, token=TOKEN, limits=Limits(rate=None))
    transport = httpx.ASGITransport(app=asgi)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    timings: dict[str, list[float]] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", headers=headers) as client:
        for name, path in pages.items():
            for _ in range(2):
                response = await client.get(path)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {path} answered {response.status_code}: {response.text[:300]}")
            samples = []
            for _ in range(runs):
                started = time.perf_counter()
                response = await client.get(path)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            timings[name] = samples
    return timings


def pages(app: jobq.App) -> dict[str, str]:
    """The pages to time; the list and group pages are the ones with a target."""
    second = app.dlq.list(limit=50).next_cursor
    letter = app.dlq.list(limit=1, task="shop.task3")[0].id
    return {
        "list: all": "/dashboard/dead-letters",
        "list: page 2 (cursor)": f"/dashboard/dead-letters?cursor={second}&seen=50",
        "list: 200 rows": "/dashboard/dead-letters?limit=200",
        "list: task": "/dashboard/dead-letters?task=shop.task3",
        "list: tenant + class": "/dashboard/dead-letters?tenant=tenant-7&class=user_error",
        "list: resolution open": "/dashboard/dead-letters?resolution=open",
        "list: task + resolution open": "/dashboard/dead-letters?task=shop.task3&resolution=open",
        "list: fingerprint": "/dashboard/dead-letters?fingerprint=0000000000000042",
        "list: last 24h": "/dashboard/dead-letters?since=24h",
        "list: message text": "/dashboard/dead-letters?q=invalid+phone",
        "list: message text + open": "/dashboard/dead-letters?q=invalid+phone&resolution=open",
        "groups: fingerprint": "/dashboard/groups",
        "groups: task": "/dashboard/groups?by=task",
        "groups: fingerprint, 500": "/dashboard/groups?limit=500",
        "groups: fingerprint of a task": "/dashboard/groups?task=shop.task3",
        "overview": "/dashboard/",
        "dead letter": f"/dashboard/dead-letters/{letter}",
        "jobs": "/dashboard/jobs",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        app = build(Path(folder) / "jobq.db", options.letters)
        print(f"built {options.letters:,} dead letters in {time.perf_counter() - started:.1f} s "
              f"(Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)\n")  # fmt: skip
        timings = asyncio.run(measure(app, pages(app), options.runs))
        app.close()
    print(f"{'page':<32} {'median':>9} {'p90':>9}  target")
    missed = 0
    for name, samples in timings.items():
        median = statistics.median(samples)
        p90 = sorted(samples)[int(0.9 * (len(samples) - 1))]
        targeted = name.startswith(("list", "groups"))
        verdict = ("ok" if median < TARGET_MS else "MISS") if targeted else ""
        missed += verdict == "MISS"
        print(f"{name:<32} {median:>7.1f}ms {p90:>7.1f}ms  {verdict}")
    outcome = "all met" if not missed else f"{missed} missed"
    print(f"\nlist and group pages: target median < {TARGET_MS:.0f} ms; {outcome}")


if __name__ == "__main__":
    main()
