"""The DLQ quota: an honest bound on the dead-letter queue. Letters past it (by count and/or age) are written to
a JSON Lines archive — fsynced — before they are deleted, and every deletion is counted (``stats()["dlq"]
["pruned"]``, the ``dlq_pruned`` metric). Nothing is pruned unless a quota is configured.

An archive file is what ``app.dlq.export`` writes, so ``jobq dlq import`` brings letters back. If the database
fails after the archive was written, the same letters are archived again next time: import skips known ids.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from jobq.backends.contract import ChoreStore
from jobq.clock import Clock
from jobq.job import DeadLetter, new_id
from jobq.serialize import dead_letter_to_dict

BATCH = 500  # letters archived and deleted per transaction


@dataclass(frozen=True, slots=True)
class Quota:
    """Keep at most ``max_letters`` dead letters and none older than ``max_age``; archive the rest to ``archive_dir``.

    Letters pending recovery are never pruned (a worker is about to replay them) and do not count.
    """

    archive_dir: Path | str
    max_letters: int | None = None
    max_age: timedelta | float | None = None
    """A timedelta, or seconds."""
    every: float = 60.0
    """Seconds between the workers' checks."""

    def __post_init__(self) -> None:
        if self.max_letters is None and self.max_age is None:
            raise ValueError("a quota needs max_letters, max_age or both")
        if self.max_letters is not None and self.max_letters < 0:
            raise ValueError(f"max_letters must not be negative, not {self.max_letters!r}")
        if self.age is not None and self.age <= 0:
            raise ValueError(f"max_age must be positive, not {self.max_age!r}")

    @property
    def age(self) -> float | None:
        """``max_age`` in seconds."""
        return self.max_age.total_seconds() if isinstance(self.max_age, timedelta) else self.max_age


def enforce_quota(store: ChoreStore, quota: Quota, *, clock: Clock) -> int:
    """Archive and delete every letter past the quota, a batch per transaction; returns how many."""
    before = clock() - quota.age if quota.age is not None else None
    directory = Path(quota.archive_dir)
    pruned = 0
    while True:
        count = store.prune_dead(
            keep=quota.max_letters, before=before, limit=BATCH, archive=lambda letters: archive(directory, letters)
        )
        pruned += count
        if count < BATCH:
            return pruned


def archive(directory: Path, letters: list[DeadLetter]) -> Path:
    """Write ``letters`` as JSON Lines to a new file in ``directory``, durably (fsync, then an atomic rename)."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = directory / f"dlq-archive-{stamp}-{new_id()}.jsonl"
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as fp:
        for letter in letters:
            fp.write(json.dumps(dead_letter_to_dict(letter)) + "\n")  # ASCII: a lone surrogate cannot fail it
        fp.flush()
        os.fsync(fp.fileno())
    os.replace(partial, path)
    _sync_directory(directory)
    return path


def _sync_directory(directory: Path) -> None:
    # The rename is durable once the directory is: without this, a crash could lose the file after the delete.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
