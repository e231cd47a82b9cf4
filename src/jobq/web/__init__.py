"""The HTTP side of jobq: a JSON API, Prometheus metrics and a health check, served by ``jobq serve``.

Needs the ``web`` extra (``pip install 'jobq[web]'``). ``create_app`` builds the ASGI application; mount
it in your own app to serve it under a prefix such as ``/jobq``.
"""

from jobq.redact import Redactor  # what create_app(redactor=...) takes
from jobq.web.factory import create_app
from jobq.web.limits import Limits

__all__ = ["Limits", "Redactor", "create_app"]
