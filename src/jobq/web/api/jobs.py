"""The main queue: list jobs, one job, enqueue a job."""

from __future__ import annotations

from functools import partial

from starlette.responses import Response

from jobq.job import Job
from jobq.serialize import job_to_dict
from jobq.web.api.filters import ID, JOB_FILTERS, NAME, chosen, paging
from jobq.web.api.schemas import STRING, object_of, page_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, JsonBody, Param, Reply
from jobq.web.problems import Problem
from jobq.web.responses import ok
from jobq.web.values import DateTime, Field, Fields, Integer, JsonArray, JsonObject, Number

TAG = "jobs"
TEN_YEARS = 10 * 365 * 86_400

NEW_JOB = Fields({
    "task": Field(NAME, "The task's name.", required=True),
    "args": Field(JsonArray(), "Positional arguments (JSON values)."),
    "kwargs": Field(JsonObject(), "Keyword arguments (JSON values)."),
    "queue": Field(NAME, "The queue (default: the task's, else default)."),
    "tenant": Field(NAME, "The owning app or customer."),
    "key": Field(NAME, "A domain key to look the job up by."),
    "unique_key": Field(NAME, "While a job with this key is pending, enqueueing returns that job."),
    "priority": Field(Integer(-1_000_000, 1_000_000), "Higher runs first."),
    "max_attempts": Field(Integer(1, 1000), "Attempts before it is dead-lettered (default: the task's)."),
    "delay": Field(Number(0, TEN_YEARS), "Run no earlier than this many seconds from now."),
    "run_at": Field(DateTime(), "Run no earlier than this time (not with delay)."),
}, exclusive=(("delay", "run_at"),))  # fmt: skip


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "GET", "/api/jobs", "listJobs", "Jobs, newest first", TAG, partial(list_, s),
            (Reply(200, "One page of jobs.", page_of("Job", "jobs"),
                   links={"GetFirst": ("getJob", "job_id", "$response.body#/jobs/0/id")}),),
            query={**JOB_FILTERS, **paging(s.limits)},
        ),
        Endpoint(
            "GET", "/api/jobs/{job_id}", "getJob", "One job: state, times, payload, error history", TAG,
            partial(get, s), (Reply(200, "The job.", ref("Job")),),
            path_params={"job_id": Param(ID, "The job's id.")}, errors=(404,),
        ),
        Endpoint(
            "POST", "/api/jobs", "enqueueJob", "Queue one call of a task", TAG, partial(enqueue, s),
            (Reply(201, "The job's id (a pending job's, for a unique key already pending).",
                   object_of(job_id=STRING), headers={"Location": "The job's URL."},
                   links={"GetJob": ("getJob", "job_id", "$response.body#/job_id")}),),
            body=JsonBody(NEW_JOB, "The call.", required=True),
        ),
    ]  # fmt: skip


def job_json(s: Services, job: Job) -> dict[str, object]:
    """A job as the CLI's ``--json`` shows it, redacted."""
    return s.redactor.record(job_to_dict(job))


def list_(s: Services, call: Call) -> Response:
    limit = call.query["limit"]
    found = s.app.list_jobs(limit=limit + 1, cursor=call.query.get("cursor"), **chosen(call.query, JOB_FILTERS))
    next_cursor = found[limit - 1].id if len(found) > limit else None
    return ok({"jobs": [job_json(s, job) for job in found[:limit]], "next_cursor": next_cursor})


def get(s: Services, call: Call) -> Response:
    job = s.app.get_job(call.path["job_id"])
    if job is None:
        raise Problem(404, f"no job {call.path['job_id']}")
    return ok(job_json(s, job))


def enqueue(s: Services, call: Call) -> Response:
    options = dict(call.body)
    task, args, kwargs = options.pop("task"), options.pop("args", ()), options.pop("kwargs", None)
    job_id = s.app.enqueue(task, kwargs, args=args, **options)
    return ok({"job_id": job_id}, status=201, headers={"Location": f"{call.root_path}/api/jobs/{job_id}"})
