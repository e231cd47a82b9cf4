"""Real HTTP receivers on loopback for hook tests: each records what it got and answers as told."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from jobq.hooks import verify_signature

SECRET = "whsec_integration"


@dataclass
class Request:
    """What a receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers as ``respond`` says."""

    respond: Callable[[Request, int], Answer]
    requests: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
        headers = dict(handler.headers.items())
        signature_ok = verify_signature(
            SECRET,
            headers.get("X-Jobq-Timestamp", ""),
            body,
            headers.get("X-Jobq-Signature", ""),
            now=time.time(),
        )
        request = Request(handler.path, headers, body, signature_ok)
        self.requests.append(request)
        status, answer_headers, answer = self.respond(request, len(self.requests))
        try:
            handler.send_response(status)
            for name, value in answer_headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(answer)))
            handler.end_headers()
            handler.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender gave up waiting (the hanging receiver): nobody to answer


def accept(request: Request, number: int) -> Answer:
    return (204, {}, b"") if request.signature_ok else (401, {}, b"bad signature")
