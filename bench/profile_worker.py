"""Profile one worker process draining the benchmark's jobs, with py-spy (``pip install py-spy``).

    .venv/bin/python bench/profile_worker.py drain|failure [--backend sqlite|postgres] [--jobs N] [--gil] [--out DIR]

Fills a fresh database — a SQLite file, or a PostgreSQL schema dropped afterwards (no-op jobs for
``drain``, always-failing ones for ``failure``) — runs
``bench_worker.py --burst`` under ``py-spy record --threads`` and writes a flame graph (SVG) and the raw
collapsed stacks, then prints the functions where the worker's loop thread spends its time. ``--idle``
sampling (the default) shows wall time, waits included; ``--gil`` shows only who holds the GIL.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench_tasks import FAIL, NOOP, make_app
from places import PostgresPlace, SqlitePlace

HERE = Path(__file__).resolve().parent


def fill(url: str, task: str, n: int) -> None:
    app = make_app(url)
    for start in range(0, n, 1_000):
        app.tasks[task].enqueue_many([{"i": i} for i in range(start, min(n, start + 1_000))])
    app.close()


def record(py_spy: str, url: str, out: Path, fmt: str, gil: bool) -> None:
    mode = "--gil" if gil else "--idle"
    command = [py_spy, "record", "-r", "500", "--threads", mode, "-f", fmt, "-o", str(out), "--"]
    command += [sys.executable, str(HERE / "bench_worker.py"), url, "--burst"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summary(raw: Path, thread: str = "MainThread", top: int = 25) -> str:
    """Inclusive share of samples per function in one thread (collapsed stacks: frames;...;frame count)."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, count = line.rsplit(" ", 1)
        frames = stack.split(";")
        if not frames[0].endswith(thread):
            continue
        total += int(count)
        for frame in {re.sub(r" \(.*?([^/]+\.py):\d+\)", r" (\1)", f) for f in frames[1:]}:
            inclusive[frame] += int(count)
    lines = [f"{thread}: {total} samples"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workload", choices=["drain", "failure"])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=None, help="default: 60,000 (drain) or 6,000 (failure)")
    parser.add_argument("--gil", action="store_true", help="sample only the thread holding the GIL")
    parser.add_argument("--out", type=Path, default=Path("."), help="where the SVG and raw stacks go")
    args = parser.parse_args()
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if py_spy is None:
        print("py-spy is not installed: .venv/bin/pip install py-spy", file=sys.stderr)
        return 1
    task, jobs = (NOOP, 60_000) if args.workload == "drain" else (FAIL, 6_000)
    jobs = args.jobs or jobs
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"worker-{args.backend}-{args.workload}{'-gil' if args.gil else ''}"
    for fmt, suffix in (("flamegraph", ".svg"), ("raw", ".txt")):
        place = (SqlitePlace if args.backend == "sqlite" else PostgresPlace)("jobq-profile-", None)
        try:
            url = place.url("profile")
            fill(url, task, jobs)
            record(py_spy, url, stem.with_suffix(suffix), fmt, args.gil)
        finally:
            place.close()
    print(f"wrote {stem}.svg and {stem}.txt ({jobs:,} jobs)")
    print(summary(stem.with_suffix(".txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
