"""The Django app (``INSTALLED_APPS += ["jobq.contrib.django"]``): it brings ``manage.py jobq``."""

from __future__ import annotations

from django.apps import AppConfig


class JobqConfig(AppConfig):
    """jobq in a Django project: no models (jobq keeps its own tables), one management command."""

    name = "jobq.contrib.django"
    label = "jobq"
    verbose_name = "jobq"
