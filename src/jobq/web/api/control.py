"""The controls of the main queue: cancel jobs, list, pause and resume queues, list periodic schedules."""

from __future__ import annotations

from functools import partial

from starlette.responses import Response

from jobq.serialize import periodic_to_dict, queues_to_list
from jobq.web.api.filters import ID, NAME
from jobq.web.api.schemas import BOOLEAN, COUNT, STRING, object_of, ref
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, JsonBody, Param, Reply
from jobq.web.responses import ok
from jobq.web.values import Field, Fields

TAG = "control"

CANCEL_FILTER = Fields({
    "task": Field(NAME, "Every job of this task."),
    "queue": Field(NAME, "Every job of this queue."),
    "tenant": Field(NAME, "Every job of this tenant."),
    "key": Field(NAME, "Every job with this key."),
})  # fmt: skip
QUEUE = {"queue": Param(NAME, "The queue's name.")}
QUEUE_CHANGE = object_of(queue=STRING, paused=BOOLEAN, changed=BOOLEAN)


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "POST", "/api/jobs/{job_id}/cancel", "cancelJob",
            "Cancel a job: a queued one at once, a running one is asked to stop", "jobs", partial(cancel, s),
            (Reply(200, "Whether it was cancelled (false: it had finished).", object_of(job_id=STRING,
                                                                                       cancelled=BOOLEAN)),),
            path_params={"job_id": Param(ID, "The job's id.")}, errors=(404,),
        ),
        Endpoint(
            "POST", "/api/jobs/cancel", "cancelJobs", "Cancel every job that matches (at least one filter)", "jobs",
            partial(cancel_many, s), (Reply(200, "How many were cancelled, and asked to stop.",
                                            object_of(cancelled=COUNT, stopping=COUNT)),),
            body=JsonBody(CANCEL_FILTER, "The filter.", required=True),
        ),
        Endpoint(
            "GET", "/api/queues", "listQueues", "Every queue, its counts, and whether it is paused", TAG,
            partial(list_queues, s), (Reply(200, "The queues.", object_of(queues={"type": "array",
                                                                                   "items": ref("Queue")})),),
        ),
        Endpoint(
            "POST", "/api/queues/{queue}/pause", "pauseQueue", "Stop every worker claiming from a queue", TAG,
            partial(pause, s), (Reply(200, "Paused (changed: false when it was paused already).", QUEUE_CHANGE),),
            path_params=QUEUE, errors=(404,),
        ),
        Endpoint(
            "POST", "/api/queues/{queue}/resume", "resumeQueue", "Let workers claim from a paused queue again", TAG,
            partial(resume, s), (Reply(200, "Resumed (changed: false when it was not paused).", QUEUE_CHANGE),),
            path_params=QUEUE, errors=(404,),
        ),
        Endpoint(
            "GET", "/api/periodic", "listPeriodic", "Each periodic schedule with its last and next run", TAG,
            partial(list_periodic, s), (Reply(200, "The schedules.", object_of(periodic={"type": "array",
                                                                                        "items": ref("Periodic")})),),
        ),
    ]  # fmt: skip


def cancel(s: Services, call: Call) -> Response:
    job_id = call.path["job_id"]
    return ok({"job_id": job_id, "cancelled": s.app.cancel(job_id, by=call.by)})


def cancel_many(s: Services, call: Call) -> Response:
    count = s.app.cancel_many(by=call.by, **call.body)
    return ok({"cancelled": count.cancelled, "stopping": count.stopping})


def list_queues(s: Services, call: Call) -> Response:
    app = s.app
    known = {task.options.queue for task in app.tasks.values()}
    return ok({"queues": queues_to_list(app.counts(), app.paused_queues(), known)})


def pause(s: Services, call: Call) -> Response:
    queue = call.path["queue"]
    return ok({"queue": queue, "paused": True, "changed": s.app.pause(queue, by=call.by)})


def resume(s: Services, call: Call) -> Response:
    queue = call.path["queue"]
    return ok({"queue": queue, "paused": False, "changed": s.app.resume(queue)})


def list_periodic(s: Services, call: Call) -> Response:
    return ok({"periodic": [periodic_to_dict(status) for status in s.app.periodic_status()]})
