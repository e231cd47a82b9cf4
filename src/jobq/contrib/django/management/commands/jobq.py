"""``manage.py jobq …``: jobq's command line on this project's task backend, e.g. ``manage.py jobq worker
--concurrency 8`` (the options of ``jobq worker``), ``manage.py jobq dlq list``, ``manage.py jobq stats``."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from jobq.cli import main
from jobq.contrib.django.worker import BACKEND_ENV, backend_app

APP_PATH = "jobq.contrib.django.worker:app"


class Command(BaseCommand):
    help = (
        "jobq's command line for a TASKS backend: 'manage.py jobq worker [options]' runs a worker (the options of "
        "'jobq worker'), 'manage.py jobq dlq list' lists dead letters... ('manage.py jobq --help' for all). "
        "'--backend NAME' first picks another TASKS alias than 'default'."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        """Everything after ``jobq`` is jobq's to parse (Django's own parser would take ``--help`` and the rest)."""
        self.handle(*argv[2:])

    def handle(self, *args: str, **options: Any) -> None:
        words = list(args)
        alias = "default"
        if words[:1] == ["--backend"] and len(words) > 1:
            alias, words = words[1], words[2:]
        os.environ[BACKEND_ENV] = alias  # for the worker processes of --processes, which import the app anew
        main([*_global_options(alias), *_with_default_queues(words, alias)], prog_name="manage.py jobq")


def _global_options(alias: str) -> list[str]:
    return ["--app", APP_PATH]


def _with_default_queues(words: list[str], alias: str) -> list[str]:
    """``worker`` without ``--queues`` claims from the backend's QUEUES and its tasks' queues, not only the tasks
    imported so far: a Django task may be defined in a module no one imported yet."""
    if "worker" not in words or os.environ.get("JOBQ_QUEUES") or {"--queues", "-q", "--help"} & set(words):
        return words
    backend_queues = _backend_queues(alias)
    if not backend_queues:
        return words
    at = words.index("worker") + 1
    return [*words[:at], "--queues", ",".join(backend_queues), *words[at:]]


def _backend_queues(alias: str) -> list[str]:
    from django.tasks import task_backends

    app = backend_app(alias)
    return sorted(set(task_backends[alias].queues) | {task.options.queue for task in app.tasks.values()})
