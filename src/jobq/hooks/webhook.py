"""The webhook sink: a JSON POST signed with HMAC-SHA256, and the check a receiver runs on it.

What a receiver gets::

    POST <url>
    Content-Type: application/json
    X-Jobq-Event: on_dead | notify | alert
    X-Jobq-Delivery: <event id>         the same on every retry: de-duplicate on it (delivery is at-least-once)
    X-Jobq-Timestamp: <unix seconds>
    X-Jobq-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the shared secret>

    {"id": ..., "kind": ..., "created_at": ..., "data": {...}}

Signing the timestamp with the body lets ``verify_signature`` refuse a replay of an old, captured request.
Only the standard library is used, so the core keeps no dependencies. Redirects are not followed (a 3xx is
a failure: configure the final URL), and proxies from the environment are not used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ssl
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlsplit

from jobq.clock import Clock, system_clock
from jobq.errors import JobqError
from jobq.hooks.events import HookEvent, HookKind
from jobq.hooks.sinks import DeliveryError, kinds_of

SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = 300.0
_ANSWER_EXCERPT = 200


def _secret_bytes(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)


def _body_bytes(body: str | bytes) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def sign(secret: str | bytes, timestamp: str | int, body: str | bytes) -> str:
    """The ``X-Jobq-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of ``f"{timestamp}.{body}"``."""
    message = f"{timestamp}.".encode("ascii") + _body_bytes(body)
    return SIGNATURE_PREFIX + hmac.new(_secret_bytes(secret), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str | bytes,
    timestamp: str | int,
    body: str | bytes,
    signature: str,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
) -> bool:
    """For receivers: whether ``signature`` is ours for this exact body and timestamp, and the timestamp is
    within ``tolerance`` seconds of ``now`` (either way: an old request replayed is refused). Constant time;
    never raises on malformed input.

    ``body`` must be the raw bytes received, before any JSON parsing.
    """
    try:
        sent_at = int(str(timestamp).strip())
    except ValueError:
        return False
    if not abs(now - sent_at) <= tolerance or not isinstance(signature, str) or not signature.isascii():
        return False
    expected = sign(secret, str(timestamp).strip(), body)
    return hmac.compare_digest(expected, signature.strip())


@dataclass(frozen=True)
class WebhookSink:
    """POSTs each event as signed JSON to ``url``; a non-2xx answer, a timeout or a network error raises
    DeliveryError. ``timeout`` bounds connecting and each wait for the receiver.
    """

    url: str
    secret: str | bytes = field(repr=False)
    timeout: float = 5.0
    kinds: Collection[HookKind] | None = None
    headers: Mapping[str, str] | None = None
    """Extra request headers (an API key of the receiver...); the X-Jobq-* and Content-Type ones always win."""
    name: str = ""
    """Default: ``webhook <scheme>://<host[:port]>``: never the path or query, which may hold a secret."""
    clock: Clock = field(default=system_clock, repr=False, compare=False)
    _tls: list[ssl.SSLContext] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise JobqError(f"webhook url must be http:// or https:// with a host, not {_without_secrets(self.url)!r}")
        if not self.secret:
            raise JobqError("webhook secret must not be empty: receivers need it to check the signature")
        if isinstance(self.timeout, bool) or not isinstance(self.timeout, int | float) or not self.timeout > 0:
            raise JobqError(f"webhook timeout must be a number of seconds > 0, not {self.timeout!r}")
        if not self.name:
            port = f":{parts.port}" if parts.port else ""
            object.__setattr__(self, "name", f"webhook {parts.scheme}://{parts.hostname}{port}")
        object.__setattr__(self, "kinds", kinds_of(self.kinds))
        object.__setattr__(self, "headers", dict(self.headers or {}))

    def within(self, seconds: float) -> WebhookSink:
        """This sink with its timeout cut to ``seconds`` (a stopping worker has little time left)."""
        return replace(self, timeout=max(min(self.timeout, seconds), 0.001))

    def request(self, event: HookEvent) -> tuple[bytes, dict[str, str]]:
        """The body and headers ``deliver`` sends for ``event``, signed now."""
        body = event.to_json().encode("utf-8")
        timestamp = str(int(self.clock()))
        headers = dict(self.headers or {})
        parts = urlsplit(self.url)
        if parts.username is not None:  # http.client does not send the URL's user:password by itself
            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
        headers |= {
            "Content-Type": "application/json",
            "User-Agent": "jobq-webhook",
            "X-Jobq-Event": event.kind,
            "X-Jobq-Delivery": event.id,
            "X-Jobq-Timestamp": timestamp,
            "X-Jobq-Signature": sign(self.secret, timestamp, body),
        }
        return body, headers

    def deliver(self, event: HookEvent) -> None:
        """POST the event; return once the receiver answered 2xx."""
        body, headers = self.request(event)
        try:
            status, reason, answer_headers, excerpt = self._post(body, headers)
        except TimeoutError:
            raise DeliveryError(f"{self.name}: no answer within {self.timeout:g}s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(f"{self.name}: {_one_line(exc)}") from None
        if not 200 <= status < 300:
            detail = f": {excerpt}" if excerpt else ""
            if 300 <= status < 400:
                detail = " (redirects are not followed: configure the final URL)"
            raise DeliveryError(
                f"{self.name} answered HTTP {status} {reason}{detail}", status_code=status, headers=answer_headers
            )

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str, dict[str, str], str]:
        parts = urlsplit(self.url)
        deadline = time.monotonic() + self.timeout
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            if not self._tls:  # loading the CA store costs milliseconds: once per sink
                self._tls.append(ssl.create_default_context())
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=self.timeout, context=self._tls[0]
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=self.timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=body, headers=headers)
            if connection.sock is not None:  # what is left of the timeout, not a fresh one, for the answer
                connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            with connection.getresponse() as response:
                excerpt = b"" if 200 <= response.status < 300 else response.read(_ANSWER_EXCERPT)
                answer_headers = {key: value for key, value in response.getheaders()}
                return response.status, response.reason, answer_headers, _one_line(excerpt.decode("utf-8", "replace"))
        finally:
            connection.close()


def _one_line(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _ANSWER_EXCERPT else text[: _ANSWER_EXCERPT - 1] + "…"


def _without_secrets(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}" if parts.scheme else url[:40]
