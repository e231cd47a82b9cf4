"""Sending through HttpProvider to a real provider endpoint.

Live: ``RUN_LIVE_TESTS=true`` with ``MESSAGING_BASE_URL`` and ``MESSAGING_API_KEY`` (optionally
``MESSAGING_LIVE_TO``, a number the endpoint accepts, and ``MESSAGING_TIMEOUT`` in seconds). Without them the
tests are skipped, with the reason printed — except in CI, where a skip counts as a failure: there they run
against the fake provider server on loopback instead, through the very same code path.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from examples.messaging.app import build_app
from examples.messaging.fake_server import FakeProviderServer
from examples.messaging.http_provider import HttpProvider
from examples.messaging.provider import Message, ProviderHTTPError
from examples.messaging.send import enqueue_messages

from .conftest import drain

NOT_CONFIGURED = (
    "live provider tests need RUN_LIVE_TESTS=true, MESSAGING_BASE_URL and MESSAGING_API_KEY "
    "(in CI they run against the fake provider server instead)"
)


@dataclass(frozen=True)
class Endpoint:
    """Where the tests send: a real provider, or the fake one."""

    base_url: str
    api_key: str
    to: str
    timeout: float


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    """The live endpoint from the environment; the fake provider in CI without one; else a skip."""
    timeout = float(os.environ.get("MESSAGING_TIMEOUT", "10"))
    if os.environ.get("RUN_LIVE_TESTS", "").lower() == "true":
        missing = [name for name in ("MESSAGING_BASE_URL", "MESSAGING_API_KEY") if not os.environ.get(name)]
        if missing:
            pytest.fail(f"RUN_LIVE_TESTS=true but {' and '.join(missing)} not set")
        to = os.environ.get("MESSAGING_LIVE_TO", "+15551230000")
        yield Endpoint(os.environ["MESSAGING_BASE_URL"], os.environ["MESSAGING_API_KEY"], to, timeout)
    elif os.environ.get("CI"):
        with FakeProviderServer(api_key="ci-key") as server:
            yield Endpoint(server.url, "ci-key", "+15551230000", timeout)
    else:
        pytest.skip(NOT_CONFIGURED)


@pytest.fixture
def provider(endpoint: Endpoint) -> Iterator[HttpProvider]:
    """HttpProvider on the endpoint."""
    http = HttpProvider(endpoint.base_url, endpoint.api_key, timeout=endpoint.timeout)
    yield http
    http.close()


def test_a_message_is_accepted_with_a_receipt(provider: HttpProvider, endpoint: Endpoint) -> None:
    message = Message(id=f"live-{uuid.uuid4().hex[:12]}", to=endpoint.to, body="jobq live test")
    receipt = provider.send(message)
    assert receipt.message_id == message.id and receipt.provider_id


def test_an_invalid_number_is_refused_with_http_400(provider: HttpProvider) -> None:
    with pytest.raises(ProviderHTTPError) as refused:
        provider.send(Message(id=f"live-{uuid.uuid4().hex[:12]}", to="+0000", body="jobq live test"))
    assert refused.value.status_code == 400


def test_a_wrong_api_key_is_refused_with_http_401(endpoint: Endpoint) -> None:
    provider = HttpProvider(endpoint.base_url, "not-" + endpoint.api_key, timeout=endpoint.timeout)
    with pytest.raises(ProviderHTTPError) as refused:
        provider.send(Message(id=f"live-{uuid.uuid4().hex[:12]}", to=endpoint.to, body="jobq live test"))
    provider.close()
    assert refused.value.status_code == 401


def test_a_job_sent_through_a_worker_succeeds(provider: HttpProvider, endpoint: Endpoint, tmp_path: Path) -> None:
    with build_app(f"sqlite:///{tmp_path / 'jobq.db'}", provider=provider) as app:
        (job_id,) = enqueue_messages(app, [("live", endpoint.to)], body="jobq live test through a worker")
        drain(app, timeout=60)
        job = app.get_job(job_id)
    assert job is not None and job.status == "succeeded", job
