"""The rows of the benchmark table, their targets per backend, and the table printed side by side."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Literal

from harness import Sizes
from places import TITLES, Backend

Target = tuple[Literal[">=", "<="], float]


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    unit: str
    targets: dict[Backend, Target] = field(default_factory=dict)
    base: str | None = None  # the same backend's baseline figure this one is divided by

    def verdict(self, backend: Backend, value: float) -> str:
        target = self.targets.get(backend)
        if target is None:
            return ""
        op, limit = target
        return "ok" if (value >= limit if op == ">=" else value <= limit) else "MISS"


def both(op: Literal[">=", "<="], sqlite: float | None, postgres: float | None) -> dict[Backend, Target]:
    targets: dict[Backend, Target] = {}
    if sqlite is not None:
        targets["sqlite"] = (op, sqlite)
    if postgres is not None:
        targets["postgres"] = (op, postgres)
    return targets


# fmt: off
ROWS = [
    Row("base_enqueue_full", "baseline: one INSERT per txn, durable", "jobs/s"),
    Row("base_enqueue_normal", "baseline: one INSERT per txn, normal", "jobs/s"),
    Row("base_enqueue_notify", "baseline: INSERT + pg_notify per txn, durable", "jobs/s"),
    Row("base_claim_full", "baseline: claim+complete per txn, durable", "jobs/s"),
    Row("base_claim_normal", "baseline: claim+complete per txn, normal", "jobs/s"),
    Row("base_set", "baseline: set-based claim, complete of 100", "jobs/s"),
    Row("enqueue_full", "enqueue one by one, durability=full", "jobs/s", both(">=", 6_000, 3_000), "base_enqueue_full"),
    Row("enqueue_threads", "16 threads enqueue one by one (full)", "jobs/s", both(">=", 25_000, None),
        "base_enqueue_full"),
    Row("enqueue_normal", "enqueue one by one, durability=normal", "jobs/s", both(">=", 20_000, None),
        "base_enqueue_normal"),
    Row("enqueue_batched", "enqueue_many, batches of 1,000 (full)", "jobs/s", both(">=", 150_000, 60_000),
        "base_enqueue_full"),
    Row("drain", "drain, 1 worker process x concurrency 4", "jobs/s", both(">=", 8_000, 10_000), "base_set"),
    Row("drain_wall", "  same, incl. process start-up", "jobs/s"),
    Row("drain_rss", "  worker peak RSS (drain)", "MiB", both("<=", 100, 100)),
    Row("drain_2x8", "drain, 2 worker processes x concurrency 8", "jobs/s", both(">=", None, 10_000), "base_set"),
    Row("failure", "failure path: attempts to retry/DLQ", "att/s", both(">=", 1_500, 1_000), "base_claim_full"),
    Row("failure_rss", "  worker peak RSS (failure path)", "MiB", both("<=", 100, 100)),
    Row("wake_same_median", "wake-up, same process, median", "ms", both("<=", 2, None)),
    Row("wake_same_p95", "wake-up, same process, p95", "ms"),
    Row("wake_other_median", "wake-up, other process, median", "ms", both("<=", 20, 3)),
    Row("wake_other_p95", "wake-up, other process, p95", "ms", both("<=", None, 5)),
    Row("replay", "dlq.replay_many() of 5,000 letters", "jobs/s", {}, "base_enqueue_full"),
    Row("dlq_insert", "building the big DLQ: backend.insert_dead", "letters/s"),
    Row("dlq_list", "big DLQ: list(limit=50)", "ms/call"),
    Row("dlq_list_tenant", "big DLQ: list(limit=50, tenant=...)", "ms/call"),
    Row("dlq_list_task_class", "big DLQ: list(limit=50, task=, error_class=)", "ms/call"),
    Row("dlq_list_search", "big DLQ: list(limit=50, search=text)", "ms/call"),
    Row("dlq_groups", "big DLQ: groups() by fingerprint", "ms/call"),
    Row("dlq_count", "big DLQ: count(error_class=)", "ms/call"),
    Row("dlq_alerts", "big DLQ: one alert evaluation (every worker, each minute)", "ms/call"),
    Row("dlq_prune", "big DLQ: quota prune to half (archive + delete)", "letters/s"),
]
# fmt: on

NOTES = """\
durable: SQLite synchronous=FULL, PostgreSQL synchronous_commit=on; normal: NORMAL / off.
spread: half the min-max range, as a share of the median. x base: the figure over the same backend's baseline
(drain over the set-based baseline, failure over claim+complete per txn)."""

Results = dict[Backend, dict[str, list[float]]]


def number(value: float) -> str:
    if value >= 1_000:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cells(row: Row, backend: Backend, results: dict[str, list[float]]) -> list[str]:
    """median, spread, target, verdict, x base — or blanks where this backend has no figure."""
    values = results.get(row.key)
    if not values:
        return ["", "", "", "", ""]
    value = statistics.median(values)
    spread = f"±{50 * (max(values) - min(values)) / value:.0f}%" if len(values) > 1 and value else ""
    target = row.targets.get(backend)
    shown_target = f"{target[0]} {number(target[1])}" if target else ""
    base = statistics.median(results[row.base]) if row.base and results.get(row.base) else None
    ratio = f"{value / base:.2f}" if base else ""
    return [number(value), spread, shown_target, row.verdict(backend, value), ratio]


def table(results: Results, sizes: Sizes, heading: str) -> str:
    backends = [backend for backend in TITLES if backend in results]
    top = ["", ""] + [cell for backend in backends for cell in (TITLES[backend], "", "", "", "")]
    header = ["workload", "unit"] + ["median", "spread", "target", "", "x base"] * len(backends)
    lines = []
    for row in ROWS:
        row_cells = [cells(row, backend, results[backend]) for backend in backends]
        if all(not group[0] for group in row_cells):
            continue
        label = row.label.replace("5,000", f"{sizes.replay:,}")
        lines.append([label, row.unit] + [cell for group in row_cells for cell in group])
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    aligns = ["<", "<"] + [">", ">", ">", "<", ">"] * len(backends)
    out = [heading]
    for index, line in enumerate([top, header, *lines]):
        columns = zip(line, aligns, widths, strict=True)
        out.append("  ".join(f"{cell:{align}{width}}" for cell, align, width in columns).rstrip())
        if index == 1:
            out.append("  ".join("-" * width for width in widths))
    out.append(NOTES)
    out.append(f"sizes: {sizes}")
    return "\n".join(out)
