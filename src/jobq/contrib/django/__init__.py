"""jobq as a backend of Django's tasks framework (Django 6, ``pip install 'jobq[django]'`` on Python >= 3.12).

    TASKS = {"default": {"BACKEND": "jobq.contrib.django.JobqBackend", "OPTIONS": {"URL": "sqlite:///jobq.db"}}}

Django tasks are then jobq jobs: retried, classified, dead-lettered, replayed, and seen by ``jobq`` and the
dashboard like any other. ``INSTALLED_APPS += ["jobq.contrib.django"]`` adds ``manage.py jobq worker``.
"""

from __future__ import annotations

try:
    import django
except ImportError:  # pragma: no cover - depends on the interpreter
    django = None

if django is None or django.VERSION < (6, 0):
    import sys

    raise ImportError(
        "jobq.contrib.django needs Django 6.0, which needs Python >= 3.12: pip install 'jobq[django]' "
        f"(this is Python {sys.version_info.major}.{sys.version_info.minor}"
        f"{'' if django is None else ', Django ' + django.get_version()})"
    )

from jobq.contrib.django.backend import JobqBackend

__all__ = ["JobqBackend"]
