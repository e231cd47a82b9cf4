"""The test project as an ASGI application, with jobq's dashboard under /jobq (run by uvicorn in the tests)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django.settings")

from jobq.contrib.django.dashboard import with_dashboard

application = with_dashboard(get_asgi_application(), prefix="/jobq")
