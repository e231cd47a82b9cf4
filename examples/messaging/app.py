"""The example's jobq app: ``jobq --app examples.messaging.app:app worker``.

The provider is chosen by environment: ``MESSAGING_BASE_URL`` (with ``MESSAGING_API_KEY`` and optionally
``MESSAGING_TIMEOUT`` in seconds) selects ``HttpProvider``; without it, ``MockProvider`` answers in process.
The database is jobq's usual ``JOBQ_URL`` (or ``--url``). Tests call ``build_app`` with a provider of their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import jobq
from examples.messaging.mock import MockProvider
from examples.messaging.provider import Provider
from examples.messaging.tasks import SEND_MESSAGE, send_message

POLICY = {"rules": [{"status": [401, 403], "class": "system_error"}]}
"""On top of jobq's defaults: a refused API key is ours to fix (operators are alerted), not a mystery."""
BACKOFF = jobq.Exponential(base=1.0, cap=60.0)
"""Between attempts that carry no ``Retry-After``: up to 1 s, 2 s, 4 s … (full jitter), at most a minute."""


def provider_from_env(environ: Mapping[str, str] = os.environ) -> Provider:
    """``HttpProvider`` when ``MESSAGING_BASE_URL`` is set, else ``MockProvider``."""
    base_url = environ.get("MESSAGING_BASE_URL")
    if not base_url:
        return MockProvider()
    from examples.messaging.http_provider import HttpProvider  # httpx is needed only for the real thing

    api_key = environ.get("MESSAGING_API_KEY")
    if not api_key:
        raise RuntimeError("MESSAGING_BASE_URL is set but MESSAGING_API_KEY is not")
    return HttpProvider(base_url, api_key, timeout=float(environ.get("MESSAGING_TIMEOUT", "10")))


def build_app(
    url: str | None = None,
    *,
    provider: Provider | None = None,
    max_attempts: int = 3,
    backoff: jobq.Backoff = BACKOFF,
    **app_options: Any,
) -> jobq.App:
    """An app on ``url`` (default: ``JOBQ_URL``) whose ``messaging.send`` task gets ``provider`` injected.

    ``app_options`` go to ``jobq.App`` (``lease``, ``clock`` …).
    """
    provider = provider if provider is not None else provider_from_env()
    app = jobq.App(url, dependencies={"provider": provider}, policy=POLICY, **app_options)
    app.task(name=SEND_MESSAGE, max_attempts=max_attempts, backoff=backoff, timeout=60)(send_message)
    return app


app = build_app()
