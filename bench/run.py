"""jobq benchmark: jobs/second for enqueue, drain, the failure path, wake-up, replay and DLQ look-ups, on
SQLite and PostgreSQL side by side.

    .venv/bin/python bench/run.py [--backend sqlite|postgres|both] [--rounds 3] [--quick] [--only NAME ...]
                                  [--dir DIR] [--postgres-url URL]

Every workload runs ``--rounds`` times, each time on fresh databases: SQLite files in a temporary folder, or
PostgreSQL schemas created for the round and dropped after it (the server: ``--postgres-url``, else
``JOBQ_BENCH_POSTGRES_URL``, else the tests' ``postgresql://postgres@127.0.0.1:5432/test``). Within a round
the backends take turns workload by workload, so a noisy moment hits both alike. The table shows the
median of the rounds and their spread. Plain-sqlite3 and plain-psycopg baselines run in the same script,
so figures can be read as ratios (``x base``) even when the machine is noisy. This is a benchmark, not a
test: it prints numbers and marks missed targets, and exits 1 only when a workload gives a wrong result.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import baseline_postgres
import baseline_sqlite
from dlq_workloads import bench_dlq_lookups, bench_replay
from harness import QUICK, BenchError, Sizes
from places import BACKENDS, POSTGRES_URL, TITLES, Backend, Place, PostgresPlace, SqlitePlace, postgres_unreachable
from table import Results, number, table
from workloads import bench_drain, bench_enqueue, bench_failure, bench_wake

Workload = Callable[[Place, Sizes], dict[str, float]]

WORKLOADS: dict[str, dict[Backend, Workload]] = {
    "baseline": {"sqlite": baseline_sqlite.bench_baseline, "postgres": baseline_postgres.bench_baseline},
    "enqueue": dict.fromkeys(BACKENDS, bench_enqueue),
    "drain": dict.fromkeys(BACKENDS, bench_drain),
    "failure": dict.fromkeys(BACKENDS, bench_failure),
    "wake": dict.fromkeys(BACKENDS, bench_wake),
    "replay": dict.fromkeys(BACKENDS, bench_replay),
    "dlq": dict.fromkeys(BACKENDS, bench_dlq_lookups),
}


@dataclass
class Run:
    backends: list[Backend]
    sizes: Sizes
    only: list[str]
    directory: Path | None
    postgres_url: str
    results: Results = field(default_factory=dict)

    def place(self, backend: Backend, workload: str) -> Place:
        prefix = f"jobq-bench-{backend}-{workload}-"
        if backend == "sqlite":
            return SqlitePlace(prefix, self.directory)
        return PostgresPlace(prefix, self.directory, self.postgres_url)

    def round(self, index: int) -> None:
        for name in self.only:
            for backend in self.backends:
                place = self.place(backend, name)
                try:
                    started = time.perf_counter()
                    figures = WORKLOADS[name][backend](place, self.sizes)
                finally:
                    place.close()
                shown = ", ".join(f"{key}={number(value)}" for key, value in figures.items())
                took = time.perf_counter() - started
                print(f"round {index} {backend} {name} ({took:.1f} s): {shown}", file=sys.stderr, flush=True)
                for key, value in figures.items():
                    self.results.setdefault(backend, {}).setdefault(key, []).append(value)


def load() -> str:
    """The 1-minute load average: other work on the machine shows in the spreads, and here."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def heading(backends: list[Backend], rounds: int, postgres_url: str, loads: tuple[str, str]) -> str:
    versions = [f"Python {sys.version.split()[0]}"]
    if "sqlite" in backends:
        versions.append(f"SQLite {sqlite3.sqlite_version}")
    if "postgres" in backends:
        import psycopg

        with psycopg.connect(postgres_url) as conn:
            server = conn.info.server_version
        versions.append(f"PostgreSQL {server // 10_000}.{server % 10_000} (psycopg {psycopg.__version__})")
    titles = " vs ".join(TITLES[backend] for backend in backends)
    return (
        f"jobq benchmark, {titles}, median of {rounds} round(s); {sys.platform}, {os.cpu_count()} CPUs, "
        f"{', '.join(versions)}; load average {loads[0]} at start, {loads[1]} at end"
    )


def choose_backends(choice: str | None, postgres_url: str) -> list[Backend]:
    """``both`` by default, or SQLite alone (with a note) when no PostgreSQL server answers."""
    if choice in ("sqlite", "postgres"):
        return [choice]  # type: ignore[list-item]
    reason = postgres_unreachable(postgres_url)
    if reason is None:
        return list(BACKENDS)
    if choice == "both":
        raise BenchError(reason)
    print(f"PostgreSQL left out: {reason}", file=sys.stderr)
    return ["sqlite"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default=None,
                        help="default: both, or sqlite alone when no PostgreSQL server answers")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3, help="rounds per workload (default 3); medians are shown")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check that the script works")
    parser.add_argument("--only", nargs="+", choices=list(WORKLOADS), default=list(WORKLOADS), help="workloads to run")
    parser.add_argument("--dir", type=Path, default=None, help="where the temporary files go (default: $TMPDIR)")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help=f"the server (default {POSTGRES_URL})")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    at_start = load()
    try:
        backends = choose_backends(args.backend, args.postgres_url)
        if backends == ["postgres"] and (reason := postgres_unreachable(args.postgres_url)):
            raise BenchError(reason)
        run = Run(backends, QUICK if args.quick else Sizes(), args.only, args.dir, args.postgres_url)
        for index in range(1, args.rounds + 1):
            run.round(index)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    print(table(run.results, run.sizes, heading(backends, args.rounds, args.postgres_url, (at_start, load()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
