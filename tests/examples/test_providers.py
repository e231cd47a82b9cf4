"""The providers of the messaging example: the mock and the HTTP one fail alike, and jobq classifies them alike."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from examples.messaging.app import build_app
from examples.messaging.fake_server import FakeProviderServer
from examples.messaging.http_provider import HttpProvider
from examples.messaging.mock import MockProvider
from examples.messaging.provider import (
    Message,
    Provider,
    ProviderError,
    ProviderHTTPError,
    ProviderTimeout,
    ProviderUnreachable,
)

from .conftest import API_KEY, CLIENT_TIMEOUT, REPO

# recipient → what jobq decides about the first send to it: (class, action, delay)
FIRST_SEND = {
    "+15554290001": ("recoverable", "retry", 1.0),  # 429, Retry-After: 1
    "+15555030001": ("recoverable", "retry", 1.0),  # 503, Retry-After: 1
    "+15550001111": ("user_error", "dead", None),  # 400 invalid number
    "+0000": ("user_error", "dead", None),  # not E.164: invalid too
    "+15555000001": ("system_error", "retry", None),  # 500
    "+15554080001": ("recoverable", "retry", None),  # no answer in time
}


@pytest.fixture(params=["mock", "http"])
def provider(request: pytest.FixtureRequest) -> Iterator[Provider]:
    """Each provider of the example (the HTTP one against the fake server on loopback)."""
    if request.param == "mock":
        yield MockProvider()
        return
    http: HttpProvider = request.getfixturevalue("http_provider")
    yield http


def decision(exc: BaseException) -> tuple[str, str, float | None]:
    """What the example app's classifier (jobq's defaults plus the example's policy) decides."""
    decided = build_app("sqlite://:memory:", provider=MockProvider()).classifier(exc, time.time())
    return decided.error_class, decided.action, decided.delay


def send_error(provider: Provider, to: str, message_id: str = "msg-1") -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        provider.send(Message(id=message_id, to=to, body="hi"))
    return caught.value


@pytest.mark.parametrize(("to", "expected"), FIRST_SEND.items())
def test_each_failure_is_raised_as_a_provider_error_jobq_classifies_by_default(
    provider: Provider, to: str, expected: tuple[str, str, float | None]
) -> None:
    assert decision(send_error(provider, to)) == expected


def test_both_providers_raise_the_same_error_with_the_same_message(http_provider: HttpProvider) -> None:
    for to in FIRST_SEND:
        mocked, sent = send_error(MockProvider(), to), send_error(http_provider, to)
        assert type(mocked) is type(sent), to
        if isinstance(sent, ProviderHTTPError):
            assert str(mocked) == str(sent)


def test_rate_limited_once_then_delivered(provider: Provider) -> None:
    error = send_error(provider, "+15554290001")
    assert isinstance(error, ProviderHTTPError) and error.status_code == 429
    assert error.headers["Retry-After"] == "1"
    receipt = provider.send(Message(id="msg-2", to="+15554290001", body="hi"))
    assert receipt.message_id == "msg-2" and receipt.status == "accepted"


def test_mock_follows_its_script_per_recipient_and_repeats_the_last_outcome() -> None:
    provider = MockProvider(script={"+15551230001": ["timeout", "server_error", "ok"]})
    assert isinstance(send_error(provider, "+15551230001"), ProviderTimeout)
    assert getattr(send_error(provider, "+15551230001"), "status_code", None) == 500
    for number in range(3):
        provider.send(Message(id=f"msg-{number}", to="+15551230001", body="hi"))
    assert len(provider.sent) == 3


def test_mock_draws_failures_by_rate_reproducibly_for_a_seed() -> None:
    def outcomes(seed: int) -> list[str]:
        provider = MockProvider(rates={"timeout": 0.2, "rate_limited": 0.1}, seed=seed)
        seen = []
        for number in range(400):
            try:
                provider.send(Message(id=f"msg-{number}", to="+15551230001", body="hi"))
                seen.append("ok")
            except ProviderTimeout:
                seen.append("timeout")
            except ProviderHTTPError as exc:
                seen.append(exc.code)
        return seen

    first = outcomes(seed=7)
    assert first == outcomes(seed=7)
    assert first != outcomes(seed=8)
    counts = Counter(first)
    assert 50 <= counts["timeout"] <= 110 and 20 <= counts["rate_limited"] <= 60, counts


def test_mock_refuses_unknown_outcomes_and_impossible_rates() -> None:
    with pytest.raises(ValueError, match="expected outcomes"):
        MockProvider(script={"+15551230001": ["lost"]})  # type: ignore[list-item]
    with pytest.raises(ValueError, match="add up to at most 1"):
        MockProvider(rates={"timeout": 0.7, "server_error": 0.6})


def test_outage_makes_every_send_time_out_until_the_provider_is_up(
    provider: Provider, fake_provider: FakeProviderServer
) -> None:
    switch = provider if isinstance(provider, MockProvider) else fake_provider
    switch.down()
    started = time.monotonic()
    assert isinstance(send_error(provider, "+15551230001"), ProviderTimeout)
    assert time.monotonic() - started < CLIENT_TIMEOUT + 1
    switch.up()
    provider.send(Message(id="msg-2", to="+15551230001", body="hi"))


def test_a_repeated_send_of_one_message_is_delivered_once(
    http_provider: HttpProvider, fake_provider: FakeProviderServer
) -> None:
    message = Message(id="msg-42", to="+15551230001", body="hi")
    first, again = http_provider.send(message), http_provider.send(message)
    assert first == again
    assert [sent["idempotency_key"] for sent in fake_provider.delivered] == ["msg-42"]


def test_a_wrong_api_key_is_refused_and_classified_as_a_system_error(fake_provider: FakeProviderServer) -> None:
    provider = HttpProvider(fake_provider.url, "wrong-key", timeout=CLIENT_TIMEOUT)
    error = send_error(provider, "+15551230001")
    provider.close()
    assert isinstance(error, ProviderHTTPError) and error.status_code == 401
    assert decision(error) == ("system_error", "retry", None)  # the example's policy; jobq alone says unknown
    assert "wrong-key" not in repr(provider)


def test_an_unreachable_provider_is_recoverable() -> None:
    with FakeProviderServer() as server:
        url = server.url  # a port that was just free and is closed again
    provider = HttpProvider(url, API_KEY, timeout=CLIENT_TIMEOUT)
    error = send_error(provider, "+15551230001")
    provider.close()
    assert isinstance(error, ProviderUnreachable)
    assert decision(error) == ("recoverable", "retry", None)


def test_fake_server_runs_as_a_module_and_switches_down_and_up_over_http() -> None:
    command = [sys.executable, "-m", "examples.messaging.fake_server", "--port", "0", "--api-key", "k", "--quiet"]
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            url = server.stdout.readline().split()[3]
            assert url.startswith("http://127.0.0.1:")
            assert httpx.get(f"{url}/health").json() == {"state": "up"}
            httpx.post(f"{url}/_control/down")
            assert httpx.get(f"{url}/health").json() == {"state": "down"}
            httpx.post(f"{url}/_control/up")
            provider = HttpProvider(url, "k", timeout=CLIENT_TIMEOUT)
            provider.send(Message(id="msg-1", to="+15551230001", body="hi"))
            provider.close()
            sent = httpx.get(f"{url}/messages", headers={"Authorization": "Bearer k"}).json()["messages"]
            assert [message["to"] for message in sent] == ["+15551230001"]
            assert json.loads(httpx.get(f"{url}/messages").text)["error"]["code"] == "unauthorized"
        finally:
            server.terminate()
