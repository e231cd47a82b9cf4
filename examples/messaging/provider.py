"""What the tasks see of a message provider: a message, a receipt, ``Provider.send`` and the errors it raises.

Every provider (the mock and the HTTP one) raises the same three errors, shaped so that jobq's default
classifier needs no help: ``ProviderHTTPError`` carries ``status_code`` and the reply's ``headers`` (so an
HTTP 429 or 503 is retried after its ``Retry-After``, a 400 is dead at once as ``user_error``, a 500 is a
``system_error``); ``ProviderTimeout`` is a ``TimeoutError`` and ``ProviderUnreachable`` a ``ConnectionError``
(both ``recoverable``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Message:
    """One message to send; ``id`` is ours, and doubles as the provider's idempotency key."""

    id: str
    to: str
    body: str


@dataclass(frozen=True, slots=True)
class Receipt:
    """The provider's acknowledgement of a message."""

    message_id: str
    provider_id: str
    status: str


class Provider(Protocol):
    """A message provider: sends one message or raises a ``ProviderError``."""

    def send(self, message: Message) -> Receipt:
        """Hand ``message`` to the provider; returns its receipt."""
        ...


class ProviderError(Exception):
    """Base class of everything a provider raises."""


class ProviderHTTPError(ProviderError):
    """The provider answered with an HTTP error."""

    def __init__(self, status_code: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"HTTP {status_code} {code}: {message}")
        self.status_code = status_code
        self.code = code
        self.headers: Mapping[str, str] = headers or {}


class ProviderTimeout(ProviderError, TimeoutError):
    """The provider did not answer in time (the message may or may not have gone out)."""


class ProviderUnreachable(ProviderError, ConnectionError):
    """The provider could not be reached at all."""
