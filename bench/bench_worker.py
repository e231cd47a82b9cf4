"""A worker subprocess for the benchmark: ``bench_worker.py URL [--burst] [--concurrency N] [--hold]``.

It logs as ``jobq worker`` does (INFO to stderr), runs ``app.run_worker`` and, on the last line of stdout,
prints ``RESULT {json}``: seconds spent in run_worker (and when it began and ended, by time.time(), to
measure several workers together), the worker's summary and its peak RSS. With ``--burst`` it returns once
idle; without, it runs until SIGTERM (the wake-up latency benchmark). With ``--hold`` it waits for a line
on stdin after READY, so that several workers start working at the same moment.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time

from bench_tasks import make_app


def peak_rss_kib() -> dict[str, int]:
    """Peak resident set size of this process, by getrusage and by /proc (KiB)."""
    peak = {"ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    peak["vmhwm"] = int(line.split()[1])
    except OSError:
        pass
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--burst", action="store_true")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--hold", action="store_true", help="after READY, wait for a line on stdin")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = make_app(args.url)
    app.migrate()  # open the database before the clock starts: we time the worker, not the import
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    if args.hold:
        sys.stdin.readline()
    began_at = time.time()
    started = time.perf_counter()
    summary = app.run_worker(concurrency=args.concurrency, burst=args.burst)
    elapsed = time.perf_counter() - started
    result = {
        "seconds": elapsed,
        "began_at": began_at,
        "ended_at": began_at + elapsed,
        "succeeded": summary.succeeded,
        "retried": summary.retried,
        "dead": summary.dead,
        "rss_kib": peak_rss_kib(),
    }
    app.close()
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
