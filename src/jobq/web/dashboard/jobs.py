"""The main queue: jobs by state, and one job's page."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from jobq.job import JOB_STATUSES, Job
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.letters import page_size
from jobq.web.dashboard.lineage import letter_of
from jobq.web.dashboard.query import Filter, Invalid


def list_page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/jobs``: tabs by state (with the queues' counts), filters, a page of jobs."""
    params = request.query_params
    chosen = Filter.jobs(params)
    size = page_size(params.get("limit"))
    seen = int(params["seen"]) if params.get("seen", "").isdigit() else 0
    context: dict[str, Any] = {"jobs": [], "next_cursor": None, "error": None}
    try:
        filters = chosen.job_filters()
    except Invalid as exc:
        context["error"] = str(exc)
    else:
        found = board.app.list_jobs(limit=size + 1, cursor=params.get("cursor") or None, **filters)
        context["jobs"] = found[:size]
        context["next_cursor"] = found[size - 1].id if len(found) > size else None
    queues = board.app.stats()["queues"]
    scheduled = sum(q.get("scheduled", 0) for q in queues.values())
    counts = {status: sum(q.get(status, 0) for q in queues.values()) for status in JOB_STATUSES}
    counts["queued"] += scheduled  # the stats count scheduled jobs apart; their state is queued
    return board.pages.render(
        request, "jobs.html", nav="jobs", filter=chosen, statuses=JOB_STATUSES, counts=counts, scheduled=scheduled,
        size=size, sizes=(25, 50, 100, 200), seen=seen, queues=sorted(queues), **context,
    )  # fmt: skip


def job_page(board: Board, request: Request, form: Form | None) -> Response:
    """``GET /dashboard/jobs/{id}``: state, times, payload, every attempt's error, and the letters it links."""
    job_id = request.path_params["job_id"]
    job = board.app.get_job(job_id)
    if job is None:
        return board.pages.render(request, "missing.html", status=404, nav="jobs", what=f"No job {job_id}",
                                  hint="Finished jobs may have been cleared.")  # fmt: skip
    return board.pages.render(
        request, "job.html", nav="jobs", job=redacted(board, job), dead_letter=letter_of(board.app, job),
        replay_of=board.app.dlq.get(job.replay_of) if job.replay_of else None,
    )  # fmt: skip


def redacted(board: Board, job: Job) -> Job:
    """A copy of ``job`` with its payload and error texts redacted, its newest error first."""
    shown = board.redactor.job(job)
    return replace(shown, errors=tuple(reversed(shown.errors)))
