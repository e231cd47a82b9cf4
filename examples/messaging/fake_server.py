"""A fake message-provider API on loopback: real HTTP, the failures of ``scenarios``, an outage switch.

    python -m examples.messaging.fake_server --port 8025 --api-key test-key

API (JSON; ``Authorization: Bearer <key>`` on ``/messages``):

- ``POST /messages`` ``{"to", "body"}`` with ``Idempotency-Key`` → 201 ``{"id", "to", "status"}``; the same
  key again → 200 and the first answer, never a second delivery. Errors: ``{"error": {"code", "message"}}``
  with 400, 401, 429 or 503 (those two with ``Retry-After``), 500; a timeout is an answer that never comes.
- ``GET /messages`` → ``{"messages": [...]}``, everything delivered so far.
- ``POST /_control/down`` → an outage: every request hangs (clients time out) until ``POST /_control/up``.
- ``GET /health`` → ``{"state": "up" | "down"}``.
"""

from __future__ import annotations

import argparse
import hmac
import itertools
import json
import os
import threading
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from examples.messaging.scenarios import ERRORS, RETRY_AFTER_OUTCOMES, Outcome, Script

DESCRIPTION = "A fake message-provider API on loopback."
DEFAULT_PORT = 8025
MAX_BODY = 64 * 1024


class FakeProviderServer:
    """The fake provider, serving on a thread of this process (``port=0`` picks a free port).

    >>> with FakeProviderServer(api_key="k") as server:
    ...     server.url, server.down(), server.up(), server.delivered
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "test-key",
        retry_after: int = 1,
        hang: float = 30.0,
        script: Mapping[str, Sequence[Outcome]] | None = None,
        rates: Mapping[Outcome, float] | None = None,
        seed: int = 0,
        verbose: bool = False,
    ) -> None:
        self.api_key = api_key
        self.retry_after = retry_after
        self.hang = hang
        self.verbose = verbose
        self.outcomes = Script(script, rates=rates, seed=seed)
        self.delivered: list[dict[str, Any]] = []
        self.is_down = False
        self._by_key: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._state = threading.Condition()
        self._stopped = False
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8025``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeProviderServer:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, name="fake-provider", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on this thread until interrupted (or stopped: it looks every 50 ms)."""
        self._httpd.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        """Stop serving; requests still hanging are let go."""
        with self._state:
            self._stopped = True
            self._state.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def down(self) -> None:
        """Start an outage: every request hangs until ``up()``."""
        with self._state:
            self.is_down = True

    def up(self) -> None:
        """End the outage (requests that hung through it get a 503)."""
        with self._state:
            self.is_down = False
            self._state.notify_all()

    # -- what the handler asks ---------------------------------------------------------------------

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries our API key."""
        return hmac.compare_digest((header or "").encode(), f"Bearer {self.api_key}".encode())

    def wait_out_outage(self) -> bool:
        """Hang while the provider is down; True when it was down (the request then fails)."""
        with self._state:
            was_down = self.is_down
            self._state.wait_for(lambda: not self.is_down or self._stopped, timeout=self.hang)
        return was_down

    def hang_up(self) -> None:
        """Hang as a timeout does: for ``hang`` seconds, or until the server stops."""
        with self._state:
            self._state.wait_for(lambda: self._stopped, timeout=self.hang)

    def deliver(self, key: str | None, to: str, body: str) -> tuple[int, dict[str, Any]]:
        """Deliver once per idempotency key: (201, receipt), or (200, the first receipt) for a repeat."""
        with self._state:
            if key is not None and key in self._by_key:
                return 200, self._by_key[key]
            receipt = {"id": f"fake-{next(self._ids)}", "to": to, "status": "accepted"}
            self.delivered.append({**receipt, "body": body, "idempotency_key": key})
            if key is not None:
                self._by_key[key] = receipt
            return 201, receipt


def _handler_for(server: FakeProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        provider = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    provider: FakeProviderServer
    server_version = "FakeProvider/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        if self.provider.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        if self.path == "/health":
            self._reply(200, {"state": "down" if self.provider.is_down else "up"})
        elif self.path == "/messages":
            if self._check_auth():
                self._reply(200, {"messages": list(self.provider.delivered)})
        else:
            self._error(404, "not_found", f"no such endpoint: GET {self.path}")

    def do_POST(self) -> None:
        if self.path in ("/_control/down", "/_control/up"):
            if self.path.endswith("down"):
                self.provider.down()
            else:
                self.provider.up()
            self._reply(200, {"state": self.path.rsplit("/", 1)[-1]})
        elif self.path == "/messages":
            if self._check_auth():
                self._send_message()
        else:
            self._error(404, "not_found", f"no such endpoint: POST {self.path}")

    def _send_message(self) -> None:
        request = self._json_body()
        if request is None:
            return
        to, body = request["to"], request["body"]
        if self.provider.wait_out_outage():
            self._error(503, "unavailable", "the provider is recovering from an outage")
            return
        outcome = self.provider.outcomes.next_outcome(to)
        if outcome == "timeout":
            self.provider.hang_up()
            self._error(504, "timeout", "the carrier did not answer")
        elif outcome == "ok":
            self._reply(*self.provider.deliver(self.headers.get("Idempotency-Key"), to, body))
        else:
            status, code, template = ERRORS[outcome]
            retry_after = self.provider.retry_after if outcome in RETRY_AFTER_OUTCOMES else None
            self._error(status, code, template.format(to=to), retry_after=retry_after)

    def _json_body(self) -> dict[str, Any] | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._error(413, "too_large", f"request bodies are limited to {MAX_BODY} bytes")
            return None
        try:
            request = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            request = None
        if not (isinstance(request, dict) and all(isinstance(request.get(name), str) for name in ("to", "body"))):
            self._error(400, "invalid_request", 'expected a JSON object {"to": "+1...", "body": "..."}')
            return None
        return request

    def _check_auth(self) -> bool:
        if self.provider.authorized(self.headers.get("Authorization")):
            return True
        self._error(401, "unauthorized", "missing or wrong API key")
        return False

    def _error(self, status: int, code: str, message: str, *, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._reply(status, {"error": {"code": code, "message": message}}, headers)

    def _reply(self, status: int, data: object, headers: Mapping[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        try:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout): nobody is left to answer


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fake provider until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m examples.messaging.fake_server", description=DESCRIPTION)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--api-key", default=os.environ.get("MESSAGING_API_KEY", "test-key"))
    parser.add_argument("--retry-after", type=int, default=1, help="seconds a 429 or 503 asks clients to wait")
    parser.add_argument("--down", action="store_true", help="start in an outage (POST /_control/up ends it)")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    options = parser.parse_args(argv)
    server = FakeProviderServer(
        host=options.host, port=options.port, api_key=options.api_key, retry_after=options.retry_after,
        verbose=not options.quiet,
    )  # fmt: skip
    if options.down:
        server.down()
    print(f"Fake provider on {server.url} (API key {options.api_key!r}); Ctrl-C stops it.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
