"""``app.dlq``: every dead-letter operation, once, for Python, the CLI, the API and the dashboard."""

from __future__ import annotations

import builtins
import csv
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from datetime import timedelta
from functools import partial
from typing import IO, Any, Literal, Unpack

from jobq import bulk
from jobq.audit import AuditAction, AuditEntry
from jobq.backends.contract import GROUP_BY, DeadLetterFilter, DlqStore, GroupBy
from jobq.bulk import Action, BulkReport, Preview, Progress
from jobq.bulk import Page as Page  # re-exported: ``jobq.dlq`` defined it first
from jobq.clock import Clock, to_datetime, to_seconds
from jobq.errors import JobqError, NotFound, PayloadError, UnreadablePayload
from jobq.filters import DeadLetterFilters
from jobq.filters import When as When  # re-exported: ``jobq.dlq`` defined it first
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
from jobq.offload import Offload
from jobq.payload import accept as accept_payload
from jobq.redact import Redactor
from jobq.redrive import Redrive, RedriveId, RedriveOutcome
from jobq.redrive_run import ReplayReport as ReplayReport  # re-exported: ``jobq.dlq`` defined them first
from jobq.redrive_run import ReplayResult as ReplayResult
from jobq.redrive_run import run_redrive
from jobq.serialize import dead_letter_from_dict, dead_letter_to_dict
from jobq.stats import DAY, dead_letter_stats

BULK_PAGE = 500
CSV_COLUMNS = (
    "id", "job_id", "task", "queue", "tenant", "key", "attempts", "error_class", "error_type",
    "error_message", "fingerprint", "failed_at", "resolution", "replayed_at", "replayed_as", "note",
)  # fmt: skip


class DeadLetterQueue:
    """Dead letters: list, inspect, group, replay, abandon, purge, export and import them."""

    def __init__(
        self, store: Callable[[], DlqStore], *, clock: Clock, wake: Callable[[], None], offload: Offload | None = None
    ) -> None:
        # ``store`` hands out the store when asked: the app opens its database on first use, not when built.
        self._open_store = store
        self._offload = offload or Offload(1)
        """Where the ``*_async`` reads run, off the caller's event loop."""
        self._clock = clock
        self._wake = wake
        """Tells this process's workers that a job was queued (a replay is an enqueue)."""
        self.page_size = BULK_PAGE
        """How many ids a bulk operation reads at a time."""

    @property
    def _store(self) -> DlqStore:
        return self._open_store()

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
        job_id: str | None = None,
    ) -> DeadLetterFilter:
        if error_class is not None and error_class not in ERROR_CLASSES:
            raise ValueError(f"error_class must be one of {', '.join(ERROR_CLASSES)}, not {error_class!r}")
        if resolution is not None and resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}, not {resolution!r}")
        return DeadLetterFilter(
            tenant=tenant, task=task, queue=queue, error_class=error_class, fingerprint=fingerprint,
            resolution=resolution, since=self._seconds(since), until=self._seconds(until), search=search or None,
            unresolved=unresolved, job_id=job_id,
        )  # fmt: skip

    def _seconds(self, when: When) -> float | None:
        if when is None:
            return None
        if isinstance(when, timedelta):
            return self._clock() - when.total_seconds()
        return to_seconds(when)

    def list(
        self,
        *,
        limit: int = 50,
        cursor: DeadLetterId | None = None,
        with_payload: bool = False,
        **filters: Unpack[DeadLetterFilters],
    ) -> Page:
        """Dead letters newest first (payload and history only ``with_payload``); filter by any field."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit!r}")
        letters = self._store.list_dead(
            self._filter(**filters), limit=limit + 1, cursor=cursor, with_payload=with_payload
        )
        page = Page(letters[:limit])
        page.next_cursor = page[-1].id if len(letters) > limit else None
        return page

    def get(self, dead_letter_id: DeadLetterId) -> DeadLetter | None:
        """One dead letter with its payload and full error history, or None."""
        return self._store.get_dead(dead_letter_id)

    async def list_async(
        self,
        *,
        limit: int = 50,
        cursor: DeadLetterId | None = None,
        with_payload: bool = False,
        **filters: Unpack[DeadLetterFilters],
    ) -> Page:
        """``list`` for coroutines, on the app's offload threads."""
        return await self._offload(lambda: self.list(limit=limit, cursor=cursor, with_payload=with_payload, **filters))

    async def get_async(self, dead_letter_id: DeadLetterId) -> DeadLetter | None:
        """``get`` for coroutines, on the app's offload threads."""
        return await self._offload(self.get, dead_letter_id)

    def count(self, **filters: Unpack[DeadLetterFilters]) -> int:
        """How many dead letters match."""
        return self._store.count_dead(self._filter(**filters))

    def groups(
        self, by: GroupBy = "fingerprint", *, limit: int = 50, **filters: Unpack[DeadLetterFilters]
    ) -> builtins.list[DeadLetterGroup]:
        """Matching dead letters grouped (by fingerprint, task, class, tenant or queue), largest first."""
        if by not in GROUP_BY:
            raise ValueError(f"by must be one of {', '.join(GROUP_BY)}, not {by!r}")
        return self._store.group_dead(self._filter(**filters), by=by, limit=limit)

    def replay(
        self,
        dead_letter_id: DeadLetterId,
        *,
        force: bool = False,
        payload: Payload | None = None,
        by: str | None = None,
    ) -> JobId:
        """Queue the dead job again as a new job; refused (AlreadyReplayed) a second time unless ``force``.

        ``payload`` replaces the arguments (edit then replay); the dead letter keeps the original, and the audit
        trail (``audit_trail``) both, with ``by``: who replayed it.
        """
        return self._replay(dead_letter_id, force=force, payload=payload, by=by)

    def _replay(
        self,
        dead_letter_id: DeadLetterId,
        *,
        force: bool,
        payload: Payload | None = None,
        by: str | None = None,
        redrive_id: RedriveId | None = None,
        redrive_owner: str | None = None,
    ) -> JobId:
        letter = self.get(dead_letter_id)
        if letter is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        detail: dict[str, Any] = {"force": force, "redrive_id": redrive_id}
        text = None
        if payload is not None:
            payload, text = accept_payload(payload)
            detail |= {"original_payload": letter.payload, "payload": payload}
        elif letter.payload_note is not None:
            raise UnreadablePayload(f"dead letter {letter.id}: {letter.payload_note}; replay it with an edited payload")
        now = self._clock()
        job = NewJob(
            id=JobId(new_id()), task=letter.task, queue=letter.queue, payload=payload or letter.payload,
            max_attempts=letter.max_attempts, run_at=now, created_at=now, priority=letter.priority,
            tenant=letter.tenant, key=letter.key, replay_of=letter.id, payload_text=text,
        )  # fmt: skip
        audit = _audit_entry(letter.id, "replayed", now=now, by=by, detail={"job_id": job.id, **detail})
        job_id = self._store.replay(
            letter.id, job, force=force, audit=audit, redrive_id=redrive_id, redrive_owner=redrive_owner
        )
        self._wake()
        return job_id

    def replay_ids(
        self, ids: Sequence[DeadLetterId], *, force: bool = False, by: str | None = None, rate: float | None = None,
        payload: Payload | None = None, dry_run: bool = False, progress: Progress | None = None,
    ) -> BulkReport:  # fmt: skip
        """Replay these letters one by one, at most ``rate`` a second; each one refused (already replayed, gone,
        an unreadable payload) is an outcome in the report, and the rest go on. ``payload`` replaces the
        arguments; ``dry_run`` only counts the letters found."""
        return bulk.replay_ids(
            self, ids, force=force, by=by, rate=rate, payload=payload, dry_run=dry_run, progress=progress
        )

    def abandon_ids(
        self, ids: Sequence[DeadLetterId], *, note: str | None = None, by: str | None = None, dry_run: bool = False,
        progress: Progress | None = None,
    ) -> BulkReport:  # fmt: skip
        """Abandon these letters one by one; one already resolved or gone is an outcome in the report."""
        return bulk.abandon_ids(self, ids, note=note, by=by, dry_run=dry_run, progress=progress)

    def abandon_many(
        self, *, note: str | None = None, by: str | None = None, limit: int | None = None,
        cursor: DeadLetterId | None = None, dry_run: bool = False, progress: Progress | None = None,
        **filters: Unpack[DeadLetterFilters],
    ) -> BulkReport:  # fmt: skip
        """Abandon every match (unresolved ones unless ``resolution`` says otherwise), or with ``limit`` one page
        after ``cursor`` (``report.next_cursor`` continues); ``dry_run`` only counts the matches."""
        return bulk.abandon_many(
            self, note=note, by=by, limit=limit, cursor=cursor, dry_run=dry_run, progress=progress, filters=filters
        )

    def preview(
        self,
        action: Action,
        *,
        ids: Sequence[DeadLetterId] = (),
        force: bool = False,
        **filters: Unpack[DeadLetterFilters],
    ) -> Preview:
        """How many letters ``action`` (replay, abandon, purge) would change now, out of how many it targets:
        ``ids``, or every letter matching the filters. What a confirmation shows before anything changes."""
        if ids:
            return bulk.preview_ids(self, action, ids, force=force)
        return bulk.preview_filter(self, action, force=force, filters=filters)

    def replay_many(
        self,
        *,
        rate: float | None = None,
        dry_run: bool = False,
        force: bool = False,
        by: str | None = None,
        progress: Progress | None = None,
        started: Callable[[Redrive], None] | None = None,
        **filters: Unpack[DeadLetterFilters],
    ) -> ReplayReport:
        """Replay every match (unresolved ones unless ``resolution`` says otherwise), at most ``rate`` a second.

        Recorded as a redrive (``report.redrive_id``): ``get_redrive`` shows its progress, ``redrive_outcome``
        what became of its jobs; ``cancel_redrive`` stops it from anywhere and ``resume_redrive`` continues it.
        ``started`` is called with the redrive once it is recorded (its id, to cancel it from elsewhere), and
        ``progress`` after each letter. ``dry_run`` only counts the matches and records nothing.
        """
        if "resolution" not in filters and not force:
            filters.setdefault("unresolved", True)
        where = self._filter(**filters)
        matched = self._store.count_dead(where)
        if dry_run:
            return ReplayReport(matched=matched, dry_run=True)
        now = to_datetime(self._clock())
        redrive = Redrive(
            id=RedriveId(new_id()), state="running", filters=_stored_filter(where), matched=matched, created_at=now,
            updated_at=now, force=force, rate=rate or None, owner=_run_token(), started_by=by,
        )  # fmt: skip
        self._store.start_redrive(redrive)
        return self._drive(redrive, by=by, progress=progress, started=started)

    def resume_redrive(
        self,
        redrive_id: RedriveId,
        *,
        by: str | None = None,
        progress: Progress | None = None,
        started: Callable[[Redrive], None] | None = None,
    ) -> ReplayReport:
        """Continue a redrive after the last letter it handled, with its filter, force and rate.

        A cancelled redrive runs again; one still marked running is taken over (its process crashed, or it
        stops before its next letter); a finished one is refused. Letters are never replayed twice by it.
        """
        redrive = self._store.take_redrive(redrive_id, owner=_run_token(), now=self._clock())
        if redrive is None:
            self._existing_redrive(redrive_id)
            raise JobqError(f"redrive {redrive_id} is finished: nothing is left to resume")
        return self._drive(redrive, by=by or redrive.started_by, progress=progress, started=started)

    def cancel_redrive(self, redrive_id: RedriveId) -> bool:
        """Stop a running redrive (from any process): it stops before its next letter. False if not running."""
        if self._store.stop_redrive(redrive_id, state="cancelled", owner=None, now=self._clock()):
            return True
        self._existing_redrive(redrive_id)
        return False

    def get_redrive(self, redrive_id: RedriveId) -> Redrive | None:
        """One redrive with its progress (matched, replayed, skipped, state), or None."""
        return self._store.get_redrive(redrive_id)

    def list_redrives(self, *, limit: int = 50, cursor: RedriveId | None = None) -> builtins.list[Redrive]:
        """Redrives newest first; pass the last id as ``cursor`` for the next page."""
        return self._store.list_redrives(limit=limit, cursor=cursor)

    def redrive_outcome(self, redrive_id: RedriveId) -> builtins.list[RedriveOutcome]:
        """What became of the jobs a redrive made, per fingerprint: succeeded, died again (and with which
        fingerprints), still pending, or unknown (cleared). A letter replayed again since counts for that replay."""
        self._existing_redrive(redrive_id)
        return self._store.redrive_outcome(redrive_id)

    def _existing_redrive(self, redrive_id: RedriveId) -> Redrive:
        redrive = self._store.get_redrive(redrive_id)
        if redrive is None:
            raise NotFound(f"no redrive {redrive_id}")
        return redrive

    def _drive(
        self,
        redrive: Redrive,
        *,
        by: str | None,
        progress: Progress | None,
        started: Callable[[Redrive], None] | None,
    ) -> ReplayReport:
        if started is not None:
            started(redrive)
        letters = self._ids(DeadLetterFilter(**redrive.filters), cursor=redrive.cursor)
        replay = partial(self._replay, force=redrive.force, by=by, redrive_id=redrive.id, redrive_owner=redrive.owner)
        return run_redrive(self._store, self._clock, redrive, letters, replay, progress)

    def _ids(self, where: DeadLetterFilter, *, cursor: DeadLetterId | None = None) -> Iterator[DeadLetterId]:
        """Every matching id after ``cursor``, newest first and paged: a huge DLQ stays small in memory."""
        while True:
            ids = self._store.dead_ids(where, limit=self.page_size, cursor=cursor)
            yield from ids
            if len(ids) < self.page_size:
                return
            cursor = ids[-1]

    def audit_trail(self, dead_letter_id: DeadLetterId) -> builtins.list[AuditEntry]:
        """Every replay and abandon of a dead letter, oldest first, with who did it and the edited payloads."""
        return self._store.audit_trail(dead_letter_id)

    def abandon(self, dead_letter_id: DeadLetterId, *, note: str | None = None, by: str | None = None) -> bool:
        """Give up on an open dead letter, with a note (kept in the audit trail with ``by``: who gave up);
        False when it was already resolved."""
        now = self._clock()
        audit = _audit_entry(dead_letter_id, "abandoned", now=now, by=by, detail={"note": note})
        if self._store.abandon(dead_letter_id, note=note, audit=audit):
            return True
        if self.get(dead_letter_id) is None:
            raise NotFound(f"no dead letter {dead_letter_id}")
        return False

    def purge(
        self,
        older_than: timedelta | None = None,
        *,
        everything: bool = False,
        by: str | None = None,
        **filters: Unpack[DeadLetterFilters],
    ) -> int:
        """Delete dead letters older than ``older_than`` and/or matching filters; never all by accident.

        The audit log keeps one entry for the purge: who (``by``), when, the filter and how many it deleted.
        """
        if older_than is None and not any(v is not None for v in filters.values()) and not everything:
            raise ValueError("purge needs older_than or a filter (or everything=True to empty the DLQ)")
        if older_than is not None:
            filters["until"] = older_than
        where = self._filter(**filters)
        audit = _audit_entry(None, "purged", now=self._clock(), by=by, detail={"filters": _stored_filter(where)})
        return self._store.purge_dead(where, audit=audit)

    def audit_log(self, *, limit: int = 50, cursor: str | None = None) -> builtins.list[AuditEntry]:
        """Every replay, abandon and purge, newest first; pass the last entry's id as ``cursor`` for more."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit!r}")
        return self._store.audit_log(limit=limit, cursor=cursor)

    def export(
        self,
        fp: IO[str],
        *,
        format: Literal["jsonl", "csv"] = "jsonl",
        redactor: Redactor | None = None,
        **filters: Unpack[DeadLetterFilters],
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
        cursor: DeadLetterId | None = None
        while True:
            letters = self._store.list_dead(where, limit=BULK_PAGE, cursor=cursor, with_payload=True)
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
            except RecursionError:
                raise PayloadError(f"line {number}: nested too deeply to decode") from None
            except PayloadError as exc:
                raise PayloadError(f"line {number}: {exc}") from None
            except (json.JSONDecodeError, JobqError, AttributeError) as exc:
                raise JobqError(f"line {number}: {exc}") from None
        return self._store.insert_dead(letters) if letters else 0

    def stats(self) -> dict[str, Any]:
        """``{"dlq": {...}, "by_class": {...}}`` as SPEC section 3 shows."""
        summary = self._store.dead_summary(since=self._clock() - DAY)
        return dead_letter_stats(summary)


def _audit_entry(
    dead_letter_id: DeadLetterId | None, action: AuditAction, *, now: float, by: str | None, detail: dict[str, Any]
) -> AuditEntry:
    return AuditEntry(
        id=new_id(), dead_letter_id=dead_letter_id, at=to_datetime(now), action=action, by=by, detail=detail
    )


def _stored_filter(where: DeadLetterFilter) -> dict[str, Any]:
    """The filter's set fields: what a redrive records (as JSON) and a resume rebuilds the filter from."""
    return {name: value for name, value in asdict(where).items() if value is not None and value is not False}


def _run_token() -> str:
    """Names this run of a redrive: the host and process (for operators), and a random part (unique)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
