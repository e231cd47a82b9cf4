"""The dead-letter queue's workloads: bulk replay, and look-ups on a large DLQ of realistic letters."""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_tasks import NOOP, make_app
from harness import BenchError, Sizes, median_ms, queue_counts
from places import Place

import jobq
from jobq.alerting import raise_alerts
from jobq.job import DeadLetterId, JobId, new_id
from jobq.quota import enforce_quota

TENANTS = [f"tenant-{n}" for n in range(50)]
TASKS = [f"bench.task{n}" for n in range(10)]
CLASSES: list[jobq.ErrorClass] = ["recoverable", "user_error", "system_error", "unknown"]
ERRORS = [
    ("httpx.ReadTimeout", "timed out reading from provider for message {i}"),
    ("bench.ProviderError", "provider answered 429 Too Many Requests for message {i}"),
    ("bench.ProviderError", "provider answered 400: invalid number +8210{i:08d}"),
    ("RuntimeError", "chart renderer crashed on scene {i}"),
    ("KeyError", "'site-{i}'"),
]
TRACEBACK = 'Traceback (most recent call last):\n  File "app/tasks.py", line 42, in send\n    provider.send(to, body)\n'


def make_letters(count: int, *, task: str | None = None) -> list[jobq.DeadLetter]:
    """Realistic dead letters: 3 attempts of history, spread over 50 tenants, 10 tasks, 200 fingerprints."""
    now = time.time()
    letters = []
    for i in range(count):
        error_type, template = ERRORS[i % len(ERRORS)]
        message = template.format(i=i)
        failed_at = datetime.fromtimestamp(now - random.uniform(0, 30 * 86400), UTC)
        history = tuple(
            jobq.AttemptError(n, failed_at, error_type, message, f"{TRACEBACK}{error_type}: {message}\n", "w:1", 0.01)
            for n in (1, 2, 3)
        )
        letters.append(
            jobq.DeadLetter(
                id=DeadLetterId(new_id()),
                job_id=JobId(new_id()),
                task=task or TASKS[i % len(TASKS)],
                queue="default",
                payload={"args": [], "kwargs": {"i": i}},
                attempts=3,
                max_attempts=3,
                error_type=error_type,
                error_message=message,
                error_traceback=history[-1].traceback,
                error_class=CLASSES[i % len(CLASSES)],
                fingerprint=f"{i % 200:016x}",
                failed_at=failed_at,
                tenant=TENANTS[i % len(TENANTS)],
                key=f"key-{i}",
                errors=history,
            )
        )
    return letters


def bench_replay(place: Place, sizes: Sizes) -> dict[str, float]:
    app = make_app(place.url("replay"))
    app.migrate()
    app.backend.insert_dead(make_letters(sizes.replay, task=NOOP))
    started = time.perf_counter()
    report = app.dlq.replay_many()
    seconds = time.perf_counter() - started
    queued = queue_counts(app).get("queued", 0)
    app.close()
    if report.replayed != sizes.replay or queued != sizes.replay:
        raise BenchError(f"replay_many replayed {report.replayed} of {sizes.replay}; {queued} jobs queued")
    return {"replay": sizes.replay / seconds}


def bench_dlq_lookups(place: Place, sizes: Sizes) -> dict[str, float]:
    app = make_app(place.url("big_dlq"))
    app.migrate()
    build_seconds = 0.0
    for start in range(0, sizes.big_dlq, 10_000):
        letters = make_letters(min(10_000, sizes.big_dlq - start))
        started = time.perf_counter()
        app.backend.insert_dead(letters)
        build_seconds += time.perf_counter() - started
    if (stored := app.dlq.count()) != sizes.big_dlq:
        raise BenchError(f"built a DLQ of {stored} letters, wanted {sizes.big_dlq}")
    dlq = app.dlq
    figures = {
        "dlq_insert": sizes.big_dlq / build_seconds,
        "dlq_list": median_ms(lambda: dlq.list(limit=50), sizes.calls),
        "dlq_list_tenant": median_ms(lambda: dlq.list(limit=50, tenant="tenant-7"), sizes.calls),
        "dlq_list_task_class": median_ms(
            lambda: dlq.list(limit=50, task="bench.task3", error_class="user_error"), sizes.calls
        ),
        "dlq_list_search": median_ms(lambda: dlq.list(limit=50, search="Too Many"), sizes.calls),
        "dlq_groups": median_ms(lambda: dlq.groups(), sizes.calls),
        "dlq_count": median_ms(lambda: dlq.count(error_class="unknown"), sizes.calls),
        # What every worker with hooks does once a minute (quiet=0: each call does the whole evaluation).
        "dlq_alerts": median_ms(
            lambda: raise_alerts(app.backend, jobq.Alerting(quiet=0), clock=time.time), sizes.calls
        ),
    }
    figures["dlq_prune"] = _prune_half(app, sizes.big_dlq)
    app.close()
    return figures


def _prune_half(app: jobq.App, stored: int) -> float:
    """The quota at half the DLQ: letters archived (fsynced JSON Lines) and deleted per second."""
    keep = stored // 2
    with tempfile.TemporaryDirectory(prefix="jobq-bench-archive-") as directory:
        started = time.perf_counter()
        pruned = enforce_quota(app.backend, jobq.Quota(directory, max_letters=keep), clock=time.time)
        seconds = time.perf_counter() - started
        archived = sum(1 for path in Path(directory).glob("*.jsonl") for _ in path.open(encoding="utf-8"))
    if pruned != stored - keep or archived != pruned or app.dlq.count() != keep:
        raise BenchError(f"the quota pruned {pruned} and archived {archived} of {stored - keep}")
    return pruned / seconds
