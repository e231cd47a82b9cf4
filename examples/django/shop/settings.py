"""The example shop: Django with jobq as its TASKS backend, both on SQLite files in this folder by default.

``SHOP_DB`` (Django's database file) and ``JOBQ_URL`` (jobq's database: a SQLite file, or PostgreSQL) move them.
"""

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("SHOP_SECRET_KEY", "example only: set SHOP_SECRET_KEY in production")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "shop.urls"
LOGIN_URL = "/admin/login/"  # where the jobq dashboard sends a visitor who is not signed in as staff
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "jobq.contrib.django",  # manage.py jobq
    "orders",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
STATIC_URL = "static/"
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("SHOP_DB", HERE / "shop.sqlite3")},
}
TASKS = {
    "default": {
        "BACKEND": "jobq.contrib.django.JobqBackend",
        "QUEUES": ["default", "emails"],
        "OPTIONS": {
            "URL": os.environ.get("JOBQ_URL", f"sqlite:///{HERE / 'jobq.db'}"),
            "MAX_ATTEMPTS": 3,
            "BACKOFF": 1.0,  # seconds between attempts
        },
    }
}
