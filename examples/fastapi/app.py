"""A FastAPI service that queues its slow work on jobq: ``await task.enqueue_async(...)`` in an endpoint, the async
reads for its status pages, and jobq's dashboard and API mounted under ``/jobq``.

    JOBQ_TOKEN=... uvicorn examples.fastapi.app:api                 # the service; workers apart:
    jobq worker --app examples.fastapi.app:queue                      # as many as you like, anywhere
    JOBQ_WORKER=beside JOBQ_TOKEN=... uvicorn examples.fastapi.app:api   # or one worker in the service itself
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException

import jobq
from jobq.web import create_app

queue = jobq.App(os.environ.get("JOBQ_URL", "sqlite:///jobq.db"))


class ImageMissing(jobq.Permanent):
    """No such image: no retry can fix it."""


@queue.task(name="resize_image", max_attempts=3)
def resize_image(image_id: str, width: int) -> dict[str, Any]:
    """Pretend to resize an image; what it returns is kept on the job (``job.result``)."""
    if image_id.startswith("missing"):
        raise ImageMissing(f"no image {image_id}")
    return {"image": image_id, "width": width, "url": f"/images/{image_id}-{width}.png"}


@asynccontextmanager
async def lifespan(service: FastAPI) -> AsyncIterator[None]:
    """With ``JOBQ_WORKER=beside``, a worker runs in this process while the service does (in a thread: the
    worker's own loop is synchronous); it finishes its jobs when the server stops."""
    worker, thread = None, None
    if os.environ.get("JOBQ_WORKER") == "beside":
        worker = jobq.Worker(queue, concurrency=4, grace=10.0)
        thread = threading.Thread(target=worker.run, kwargs={"install_signal_handlers": False}, name="jobq-worker")
        thread.start()
    try:
        yield
    finally:
        if worker is not None and thread is not None:
            worker.stop()  # no new jobs; the running ones get the grace period, the rest go back to the queue
            thread.join()
        queue.close()


api = FastAPI(title="images", lifespan=lifespan)
# jobq's JSON API, dashboard and /metrics under /jobq: bearer token JOBQ_TOKEN (the dashboard's sign-in takes it).
api.mount("/jobq", create_app(queue, token=os.environ.get("JOBQ_TOKEN") or None))


@api.post("/images/{image_id}/resize", status_code=202)
async def resize(image_id: str, width: int = 640) -> dict[str, str]:
    """Queue the work and answer at once; the event loop never waits on the database."""
    job_id = await resize_image.enqueue_async(image_id, width, _key=image_id)
    return {"job_id": job_id, "status_url": f"/jobs/{job_id}"}


@api.get("/jobs/{job_id}")
async def job_status(job_id: str) -> dict[str, Any]:
    job = await queue.get_job_async(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"no job {job_id}")
    errors = [error.error_type for error in job.errors]
    return {"id": job.id, "status": job.status, "attempts": job.attempts, "result": job.result, "errors": errors}


@api.get("/failures")
async def failures(limit: int = 20) -> list[dict[str, Any]]:
    """The dead letters, newest first: what an operator's page would list."""
    page = await queue.dlq.list_async(limit=min(max(limit, 1), 100))
    return [{"id": letter.id, "job_id": letter.job_id, "error_type": letter.error_type,
             "error_class": letter.error_class, "message": letter.error_message} for letter in page]  # fmt: skip
