"""``--app jobq.contrib.django.worker:app``: the jobq app of a Django project's task backend, for the ``jobq``
command line and its worker processes (``manage.py jobq`` names it; each ``--processes`` child imports it anew).

Importing ``app`` sets Django up (``DJANGO_SETTINGS_MODULE``) and imports the ``tasks`` module of every
installed app, so that a worker knows their tasks and their queues before the first job.
"""

from __future__ import annotations

import os

import django
from django.apps import apps
from django.utils.module_loading import autodiscover_modules

from jobq.app import App
from jobq.errors import JobqError

BACKEND_ENV = "JOBQ_DJANGO_BACKEND"
"""Which ``TASKS`` alias ``app`` is (default: ``default``); ``manage.py jobq --backend NAME`` sets it."""


def backend_app(alias: str) -> App:
    """The jobq app behind ``TASKS[alias]``, with the project's ``tasks`` modules imported."""
    if not apps.ready:
        django.setup()
    autodiscover_modules("tasks")
    from django.tasks import task_backends
    from django.tasks.exceptions import InvalidTaskBackend

    from jobq.contrib.django.backend import JobqBackend

    try:
        backend = task_backends[alias]
    except InvalidTaskBackend as exc:
        raise JobqError(f"TASKS[{alias!r}]: {exc}") from None
    if not isinstance(backend, JobqBackend):
        raise JobqError(f"TASKS[{alias!r}] is {type(backend).__name__}, not jobq.contrib.django.JobqBackend")
    return backend.app


def __getattr__(name: str) -> App:
    if name == "app":
        return backend_app(os.environ.get(BACKEND_ENV, "default"))
    raise AttributeError(name)
