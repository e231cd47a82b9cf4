"""``HttpProvider``: a provider's HTTP API through httpx, its failures turned into ``ProviderError``s.

The API is the one ``fake_server`` speaks: ``POST {base_url}/messages`` with a bearer API key, the message
id as ``Idempotency-Key`` (a retried send never delivers twice), JSON errors ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import httpx

from examples.messaging.provider import (
    Message,
    ProviderHTTPError,
    ProviderTimeout,
    ProviderUnreachable,
    Receipt,
)


class HttpProvider:
    """Sends messages to a provider over HTTP; thread-safe (one connection pool shared by the worker's threads)."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout, headers={"Authorization": f"Bearer {api_key}"}
        )

    def __repr__(self) -> str:
        return f"<HttpProvider {self.base_url}>"  # never the API key

    def send(self, message: Message) -> Receipt:
        """POST the message; a reply other than 2xx, a timeout or a refused connection raises a ProviderError."""
        try:
            response = self._client.post(
                "/messages", json={"to": message.to, "body": message.body}, headers={"Idempotency-Key": message.id}
            )
        except httpx.TimeoutException as exc:
            raise ProviderTimeout(
                f"the provider did not answer within {self.timeout:g} s sending message {message.id}"
            ) from exc
        except httpx.TransportError as exc:
            raise ProviderUnreachable(f"cannot reach the provider at {self.base_url}: {exc}") from exc
        if response.is_error:
            raise _http_error(response)
        receipt = response.json()
        return Receipt(message_id=message.id, provider_id=str(receipt["id"]), status=str(receipt["status"]))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _http_error(response: httpx.Response) -> ProviderHTTPError:
    """The provider's error reply as an exception carrying its status and ``Retry-After``."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = response.reason_phrase.lower().replace(" ", "_"), response.text[:200]
    return ProviderHTTPError(response.status_code, code, message, headers=response.headers)
