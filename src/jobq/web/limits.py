"""Bounds on what one client may ask: requests per second (429 with Retry-After) and body size (413)."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jobq.web.problems import problem_response
from jobq.web.scope import client, header, route_path


@dataclass(frozen=True, slots=True)
class Limits:
    """How much the server accepts.

    ``rate`` requests per second per client address, in bursts of up to ``burst`` (None: no limit — for an
    app mounted behind a gateway that limits already); request bodies up to ``max_body_bytes``; bulk
    operations on up to ``max_bulk`` dead letters per request; pages of up to ``max_page`` records.
    """

    rate: float | None = 20.0
    burst: int = 100
    max_body_bytes: int = 1024 * 1024
    max_bulk: int = 500
    max_page: int = 1000

    def __post_init__(self) -> None:
        if self.rate is not None and self.rate <= 0:
            raise ValueError(f"rate must be positive (or None for no limit), not {self.rate!r}")
        for name in ("burst", "max_body_bytes", "max_bulk", "max_page"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, not {getattr(self, name)!r}")


class TokenBuckets:
    """One token bucket per client: ``burst`` requests at once, refilled at ``rate`` per second.

    Memory stays bounded: past ``max_clients`` the client seen least recently is forgotten (it starts again
    with a full bucket, which costs it nothing it could not have had by waiting).
    """

    def __init__(
        self, rate: float, burst: int, *, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, as of)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket: 0.0 when there was one, else the seconds until there is."""
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """Answers 429 with ``Retry-After`` to a client that spent its bucket; ``exempt`` paths are not counted."""

    def __init__(self, app: ASGIApp, *, buckets: TokenBuckets, exempt: Collection[str] = ()) -> None:
        self.app = app
        self.buckets = buckets
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_path(scope) not in self.exempt:
            wait = self.buckets.take(client(scope))
            if wait > 0:
                retry_after = str(max(1, math.ceil(wait)))
                detail = f"too many requests from this client; retry after {retry_after} s"
                await problem_response(429, detail, headers={"Retry-After": retry_after})(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyTooLarge(HTTPException):
    """A request body over the limit, found while reading it (a chunked body has no Content-Length)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes")


class BodyLimitMiddleware:
    """Answers 413 to a body over ``limit`` bytes: from Content-Length before reading any, else while reading."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is None or declared > self.limit:
            reply = problem_response(413, str(BodyTooLarge(self.limit).detail)) if declared else None
            await (reply or problem_response(400, "Content-Length is not a number"))(scope, receive, send)
            return
        received = 0

        async def bounded() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        await self.app(scope, bounded, send)


def _content_length(scope: Scope) -> int | None:
    """The declared body length (0 when none is declared), or None when it is not a number."""
    value = header(scope, b"content-length")
    if value is None:
        return 0
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() else None
