"""The shop as an ASGI application (``uvicorn shop.asgi:application``), with jobq's dashboard and API under
``/jobq/`` for staff signed in through Django's admin."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

from jobq.contrib.django.dashboard import with_dashboard

application = with_dashboard(get_asgi_application(), prefix="/jobq")
