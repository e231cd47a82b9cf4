"""The example's task: send one message through whichever provider the app injects."""

from __future__ import annotations

import logging

from examples.messaging.provider import Message, Provider

log = logging.getLogger(__name__)

SEND_MESSAGE = "messaging.send"


def send_message(message_id: str, to: str, body: str, *, provider: Provider) -> None:
    """Send one message. ``provider`` is injected by the worker (keyword-only: never part of the payload).

    Nothing is caught here on purpose: a ``ProviderError`` fails the attempt, and jobq's classifier reads
    its HTTP status and ``Retry-After`` to decide between retrying and the dead-letter queue.
    """
    receipt = provider.send(Message(id=message_id, to=to, body=body))
    log.info("Message %s accepted by the provider as %s", message_id, receipt.provider_id)
