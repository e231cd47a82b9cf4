"""Settings of the Django project the tests of ``jobq.contrib.django`` run in (also in worker subprocesses).

``JOBQ_DJANGO_TEST_URL`` is the jobq database, ``JOBQ_DJANGO_TEST_DB`` Django's own SQLite file; a test sets
them for the processes it starts, and overrides ``TASKS`` in its own process.
"""

import os
import tempfile

from tests.conftest import POSTGRES_URL

_HERE = tempfile.mkdtemp(prefix="jobq-django-")
_PG = POSTGRES_URL.removeprefix("postgresql://").removeprefix("postgres://")
_PG_USER, _, _PG_HOST = _PG.partition("/")[0].rpartition("@")

SECRET_KEY = "tests-only, never a secret"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "tests.django.urls"
LOGIN_URL = "/admin/login/"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.admin",
    "django.contrib.messages",
    "jobq.contrib.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("JOBQ_DJANGO_TEST_DB", os.path.join(_HERE, "django.db")),
    },
    # The tests' PostgreSQL server, its public schema: jobq's tables live in a schema of each test's own,
    # in the same database, so jobq can enqueue inside this connection's transactions.
    "pg": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _PG.partition("/")[2].partition("?")[0] or "test",
        "USER": _PG_USER or "postgres",
        "HOST": _PG_HOST.partition(":")[0] or "127.0.0.1",
        "PORT": _PG_HOST.partition(":")[2] or "5432",
    },
}
TASKS = {
    "default": {
        "BACKEND": "jobq.contrib.django.JobqBackend",
        "QUEUES": ["default", "reports"],
        "OPTIONS": {
            "URL": os.environ.get("JOBQ_DJANGO_TEST_URL", f"sqlite:///{os.path.join(_HERE, 'jobq.db')}"),
            "MAX_ATTEMPTS": 2,
            "BACKOFF": 0.0,
        },
    }
}
