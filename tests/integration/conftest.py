"""Fixtures of the integration tier."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .receivers import Answer, Receiver, Request


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[Request, int], Answer]], Receiver]]:
    """Start receivers; every one is stopped (and any hanging answer released) afterwards."""
    running: list[tuple[Receiver, ThreadingHTTPServer, threading.Thread]] = []

    def start(respond: Callable[[Request, int], Answer]) -> Receiver:
        receiver = Receiver(respond)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.handle(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/jobq"
        running.append((receiver, server, thread))
        return receiver

    yield start
    for receiver, server, thread in running:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
