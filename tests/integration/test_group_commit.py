"""Group commit on SQLite: producers enqueueing at the same moment share one commit, and none of them returns
before its job is stored — a process killed right after its calls returned has lost nothing."""

from __future__ import annotations

import signal
import sqlite3
import sys
import textwrap
import threading
from pathlib import Path

import jobq

from .subprocesses import Subprocess

PRODUCERS = 16
PER_PRODUCER = 150

# 16 threads enqueue at synchronous=FULL; each id is printed only after its enqueue call returned, then the
# process kills itself with SIGKILL: no clean close, no atexit, nothing flushed on the way out.
_PRODUCER = textwrap.dedent(
    f"""
    import os, signal, sys, threading
    import jobq

    app = jobq.App(sys.argv[1])

    @app.task(name="noop")
    def noop(i):
        pass

    returned = open(sys.argv[2], "w", buffering=1)
    lock = threading.Lock()

    def produce(n):
        for i in range({PER_PRODUCER}):
            job_id = noop.enqueue(i=n * 1000 + i)
            with lock:
                returned.write(job_id + "\\n")

    threads = [threading.Thread(target=produce, args=(n,)) for n in range({PRODUCERS})]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    returned.write("all\\n")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_every_job_whose_enqueue_returned_survives_a_kill_right_after(tmp_path: Path) -> None:
    database = tmp_path / "jobs.db"
    jobq.App(f"sqlite:///{database}").migrate()
    script = tmp_path / "producer.py"
    script.write_text(_PRODUCER)
    returned = tmp_path / "returned.txt"
    producer = Subprocess(
        tmp_path, "producer", [sys.executable, str(script), f"sqlite:///{database}", str(returned)], {}
    )
    assert producer.wait_exit(60) == -signal.SIGKILL, producer.stderr()

    ids = returned.read_text().split()
    assert ids[-1] == "all"
    ids = ids[:-1]
    assert len(ids) == len(set(ids)) == PRODUCERS * PER_PRODUCER
    with sqlite3.connect(database) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM jobs WHERE status = 'queued'")}
    assert set(ids) <= stored
    assert len(stored) == len(ids)


def test_concurrent_producers_share_commits(tmp_path: Path) -> None:
    """Fewer commits than calls, counted in the WAL: every commit ends with a frame that records the database
    size. A reader holding a snapshot from before keeps the WAL from being checkpointed away meanwhile."""
    database = tmp_path / "jobs.db"
    app = jobq.App(f"sqlite:///{database}")
    app.migrate()

    @app.task(name="noop")
    def noop(i: int) -> None:
        pass

    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM jobs").fetchone()
    before = _commits_in_wal(database)
    start = threading.Barrier(PRODUCERS)

    def produce() -> None:
        start.wait()
        for i in range(PER_PRODUCER):
            noop.enqueue(i)

    threads = [threading.Thread(target=produce) for _ in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    commits = _commits_in_wal(database) - before
    reader.execute("COMMIT")
    reader.close()
    assert app.counts()["default"]["queued"] == PRODUCERS * PER_PRODUCER
    assert 0 < commits < PRODUCERS * PER_PRODUCER / 3, f"{commits} commits for {PRODUCERS * PER_PRODUCER} calls"
    app.close()


def _commits_in_wal(database: Path) -> int:
    """Commit frames in the WAL file (https://sqlite.org/fileformat.html#the_write_ahead_log): a 32-byte
    header, then frames of a 24-byte header and a page; bytes 4 to 8 of a frame header are non-zero on a commit."""
    wal = Path(f"{database}-wal").read_bytes()
    page_size = int.from_bytes(wal[8:12], "big")
    frame = 24 + page_size
    return sum(
        1 for offset in range(32, len(wal) - frame + 1, frame) if int.from_bytes(wal[offset + 4 : offset + 8], "big")
    )
