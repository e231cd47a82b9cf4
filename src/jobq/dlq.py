"""``app.dlq``: every dead-letter operation, once, for Python, the CLI, the API and the dashboard."""

from __future__ import annotations

import builtins
import csv
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any, Literal

from jobq.backends.contract import GROUP_BY, DeadLetterFilter, GroupBy
from jobq.clock import to_seconds
from jobq.errors import AlreadyReplayed, JobqError, NotFound
from jobq.job import (
    ERROR_CLASSES,
    RESOLUTIONS,
    DeadLetter,
    DeadLetterGroup,
    DeadLetterId,
    ErrorClass,
    JobId,
    NewJob,
    Payload,
    Resolution,
    new_id,
)
from jobq.payload import build as build_payload
from jobq.redact import Redactor
from jobq.serialize import dead_letter_from_dict, dead_letter_to_dict
from jobq.stats import DAY, dead_letter_stats

if TYPE_CHECKING:
    from jobq.app import App

When = datetime | timedelta | None
"""A point in time: a datetime, or a timedelta meaning that long ago."""

BULK_PAGE = 500
CSV_COLUMNS = (
    "id", "job_id", "task", "queue", "tenant", "key", "attempts", "error_class", "error_type",
    "error_message", "fingerprint", "failed_at", "resolution", "replayed_at", "replayed_as", "note",
)  # fmt: skip


class Page(list[DeadLetter]):
    """One page of dead letters; ``next_cursor`` fetches the next (None on the last page)."""

    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What happened to one dead letter in a bulk replay."""

    dead_letter_id: DeadLetterId
    outcome: Literal["replayed", "already_replayed", "not_found"]
    job_id: JobId | None = None


@dataclass(slots=True)
class ReplayReport:
    """The outcome of ``replay_many``: how many matched and what happened to each."""

    matched: int
    dry_run: bool = False
    results: list[ReplayResult] = field(default_factory=list)

    @property
    def replayed(self) -> int:
        """How many became new jobs."""
        return sum(result.outcome == "replayed" for result in self.results)


class DeadLetterQueue:
    """Dead letters: list, inspect, group, replay, abandon, purge, export and import them."""

    def __init__(self, app: App) -> None:
        self._app = app

    def _filter(
        self,
        tenant: str | None = None,
        task: str | None = None,
        queue: str | None = None,
        error_class: ErrorClass | None = None,
        fingerprint: str | None = None,
        resolution: Resolution | None = None,
        since: When = None,
        until: When = None,
        search: str | None = None,
        unresolved: bool = False,
    ) -> DeadLetterFilter:
        if error_class is not None and error_class not in ERROR_CLASSES:
            raise ValueError(f"error_class must be one of {', '.join(ERROR_CLASSES)}, not {error_class!r}")
        if resolution is not None and resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
        return DeadLetterFilter(
            tenant=tenant, task=task, queue=queue, error_class=error_class, fingerprint=fingerprint,
            resolution=resolution, since=self._seconds(since), until=self._seconds(until), search=search or None,
            unresolved=unresolved,
        )  # fmt: skip

    def _seconds(self, when: When) -> float | None:
        if when is None:
            return None
        if isinstance(when, timedelta):
            return self._app.clock() - when.total_seconds()
        return to_seconds(when)

    def list(self, *, limit: int = 50, cursor: str | None = None, with_payload: bool = False, **filters: Any) -> Page:
        """Dead letters newest first (payload and history only ``with_payload``); filter by any field."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit!r}")
        letters = self._app.backend.list_dead(
            self._filter(**filters), limit=limit + 1, cursor=cursor, with_payload=with_payload
        )
        page = Page(letters[:limit])
        page.next_cursor = page[-1].id if len(letters) > limit else None
        return page

    def get(self, dead_letter_id: str) -> DeadLetter | None:
        """One dead letter with its payload and full error history, or None."""
        return self._app.backend.get_dead(dead_letter_id)

    def count(self, **filters: Any) -> int:
        """How many dead letters match."""
        return self._app.backend.count_dead(self._filter(**filters))

    def groups(self, by: GroupBy = "fingerprint", *, limit: int = 50, **filters: Any) -> builtins.list[DeadLetterGroup]:
        """Matching dead letters grouped (by fingerprint, task, class, tenant or queue), largest first."""
        if by not in GROUP_BY:
            raise ValueError(f"by must be one of {', '.join(GROUP_BY)}, not {by!r}")
        return self._app.backend.group_dead(self._filter(**filters), by=by, limit=limit)

    def replay(self, dead_letter_id: str, *, force: bool = False, payload: Payload | None = None) -> JobId:
        """Queue the dead job again as a new job; refused (AlreadyReplayed) a second time unless ``force``.

        ``payload`` replaces the arguments (edit then replay); the dead letter keeps the original.
        """
        letter = self.get(dead_letter_id)
        if letter is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        if payload is not None:
            payload = build_payload(payload.get("args", []), payload.get("kwargs", {}))
        now = self._app.clock()
        job = NewJob(
            id=JobId(new_id()), task=letter.task, queue=letter.queue, payload=payload or letter.payload,
            max_attempts=letter.max_attempts, run_at=now, created_at=now, priority=letter.priority,
            tenant=letter.tenant, key=letter.key, replay_of=letter.id,
        )  # fmt: skip
        job_id = self._app.backend.replay(letter.id, job, force=force)
        self._app._wake_workers()
        return job_id

    def replay_many(
        self, *, rate: float | None = None, dry_run: bool = False, force: bool = False, **filters: Any
    ) -> ReplayReport:
        """Replay every match (unresolved ones unless ``resolution`` says otherwise), at most ``rate`` a second."""
        if "resolution" not in filters and not force:
            filters.setdefault("unresolved", True)
        where = self._filter(**filters)
        report = ReplayReport(matched=self._app.backend.count_dead(where), dry_run=dry_run)
        if dry_run:
            return report
        pause = 1.0 / rate if rate else 0.0
        for dead_letter_id in self._ids(where):
            started = time.monotonic()
            report.results.append(self._replay_one(dead_letter_id, force))
            if pause:
                time.sleep(max(0.0, pause - (time.monotonic() - started)))
        return report

    def _replay_one(self, dead_letter_id: DeadLetterId, force: bool) -> ReplayResult:
        try:
            return ReplayResult(dead_letter_id, "replayed", self.replay(dead_letter_id, force=force))
        except AlreadyReplayed:
            return ReplayResult(dead_letter_id, "already_replayed")
        except NotFound:
            return ReplayResult(dead_letter_id, "not_found")

    def _ids(self, where: DeadLetterFilter) -> Iterator[DeadLetterId]:
        """Every matching id, paged, so a bulk operation over a huge DLQ stays small in memory."""
        cursor: str | None = None
        while True:
            ids = self._app.backend.dead_ids(where, limit=BULK_PAGE, cursor=cursor)
            yield from ids
            if len(ids) < BULK_PAGE:
                return
            cursor = ids[-1]

    def abandon(self, dead_letter_id: str, *, note: str | None = None) -> bool:
        """Give up on an open dead letter, with a note; False when it was already resolved."""
        if self._app.backend.resolve(dead_letter_id, "abandoned", note=note):
            return True
        if self.get(dead_letter_id) is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        return False

    def purge(self, older_than: timedelta | None = None, *, everything: bool = False, **filters: Any) -> int:
        """Delete dead letters older than ``older_than`` and/or matching filters; never all by accident."""
        if older_than is None and not any(v is not None for v in filters.values()) and not everything:
            raise ValueError("purge needs older_than or a filter (or everything=True to empty the DLQ)")
        if older_than is not None:
            filters["until"] = older_than
        return self._app.backend.purge_dead(self._filter(**filters))

    def export(
        self,
        fp: IO[str],
        *,
        format: Literal["jsonl", "csv"] = "jsonl",
        redactor: Redactor | None = None,
        **filters: Any,
    ) -> int:
        """Write matching dead letters (with payload and history in JSON Lines) to ``fp``; returns how many.

        ``redactor`` (e.g. ``app.redactor``) hides PII on the way out; without it the export is faithful,
        so that ``import_`` restores exactly what was exported.
        """
        if format not in ("jsonl", "csv"):
            raise ValueError(f"format must be jsonl or csv, not {format!r}")
        where = self._filter(**filters)
        writer = csv.DictWriter(fp, CSV_COLUMNS, extrasaction="ignore") if format == "csv" else None
        if writer is not None:
            writer.writeheader()
        count = 0
        cursor: str | None = None
        while True:
            letters = self._app.backend.list_dead(where, limit=BULK_PAGE, cursor=cursor, with_payload=True)
            for letter in letters:
                row = dead_letter_to_dict(redactor.dead_letter(letter) if redactor else letter)
                if writer is not None:
                    writer.writerow(row)
                else:
                    fp.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += len(letters)
            if len(letters) < BULK_PAGE:
                return count
            cursor = letters[-1].id

    def import_(self, fp: IO[str]) -> int:
        """Read JSON Lines written by ``export``; returns how many were new (existing ids are skipped).

        The whole file is checked before anything is stored: a bad line stores nothing.
        """
        letters = []
        for number, line in enumerate(fp, start=1):
            if not line.strip():
                continue
            try:
                letters.append(dead_letter_from_dict(json.loads(line)))
            except (json.JSONDecodeError, JobqError, AttributeError) as exc:
                raise JobqError(f"line {number}: {exc}") from None
        return self._app.backend.insert_dead(letters) if letters else 0

    def stats(self) -> dict[str, Any]:
        """``{"dlq": {...}, "by_class": {...}}`` as SPEC section 3 shows."""
        summary = self._app.backend.dead_summary(since=self._app.clock() - DAY)
        return dead_letter_stats(summary)
