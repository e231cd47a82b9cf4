"""A worker's memory stays flat while it drains a deep queue: ``jobq worker --burst`` (the installed command)
on 20,000 queued jobs stays under 100 MB of resident memory, read from the kernel's own accounting of the
process (``wait4``'s ``ru_maxrss``), on each database that can be shared by processes."""

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
    with jobq.App(shared_url) as app:
        for start in range(0, JOBS, 1000):
            app.enqueue_many("noop", [{"i": i} for i in range(start, start + 1000)])
    env = {**os.environ, "JOBQ_URL": shared_url, "PYTHONPATH": str(tmp_path), "JOBQ_LOG_LEVEL": "warning"}
    worker = subprocess.Popen(
        [str(JOBQ), "--app", "memapp:app", "worker", "--burst"], env=env, cwd=tmp_path, stderr=subprocess.PIPE
    )
    assert worker.stderr is not None
    with worker.stderr:
        stderr = worker.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(worker.pid, 0)
    worker.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    assert worker.returncode == 0, stderr[-3000:]

    with jobq.App(shared_url) as app:
        assert app.counts()["default"]["succeeded"] == JOBS
    peak_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mb < LIMIT_MB, f"the worker peaked at {peak_mb:.0f} MB"
