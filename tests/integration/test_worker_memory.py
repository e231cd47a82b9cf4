"""A worker's memory stays flat while it drains a deep queue: ``jobq worker --burst`` (the installed command)
on 20,000 queued jobs stays under 100 MB of resident memory, on each database that processes can share.

The peak is the kernel's high-water mark of the worker process's own memory (``VmHWM``), which a
``sitecustomize`` module writes down as the process exits: ``wait4``'s ``ru_maxrss`` would also count the
copy of the test process (hundreds of MB late in a run) that existed between fork and exec."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jobq

JOBS = 20_000
LIMIT_MB = 100
JOBQ = Path(sys.executable).parent / "jobq"

_PEAK_ON_EXIT = textwrap.dedent(
    """
    import atexit, os

    def _write_peak():
        with open("/proc/self/status") as status:
            peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
        with open(os.environ["PEAK_FILE"], "a") as out:
            out.write(peak + "\\n")

    if os.environ.get("PEAK_FILE"):
        atexit.register(_write_peak)
    """
)

_APP = textwrap.dedent(
    """
    import os
    import jobq

    app = jobq.App(os.environ["JOBQ_URL"])

    @app.task(name="noop")
    def noop(i):
        pass
    """
)


def test_a_worker_draining_20000_jobs_stays_under_100_mb(shared_url: str, tmp_path: Path) -> None:
    (tmp_path / "memapp.py").write_text(_APP)
    (tmp_path / "sitecustomize.py").write_text(_PEAK_ON_EXIT)
    peaks = tmp_path / "peaks.txt"
    with jobq.App(shared_url) as app:
        for start in range(0, JOBS, 1000):
            app.enqueue_many("noop", [{"i": i} for i in range(start, start + 1000)])
    env = {
        **os.environ, "JOBQ_URL": shared_url, "PYTHONPATH": str(tmp_path), "JOBQ_LOG_LEVEL": "warning",
        "PEAK_FILE": str(peaks),
    }  # fmt: skip
    worker = subprocess.Popen(
        [str(JOBQ), "--app", "memapp:app", "worker", "--burst"], env=env, cwd=tmp_path, stderr=subprocess.PIPE
    )
    _, stderr = worker.communicate(timeout=300)
    assert worker.returncode == 0, stderr.decode(errors="replace")[-3000:]

    with jobq.App(shared_url) as app:
        assert app.counts()["default"]["succeeded"] == JOBS
    peak_mb = max(int(kb) for kb in peaks.read_text().split()) / 1024  # every process of the worker, in kB
    assert peak_mb < LIMIT_MB, f"the worker peaked at {peak_mb:.0f} MB"
