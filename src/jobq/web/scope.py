"""What the middleware reads from an ASGI scope: the path inside the mount, the client, one header."""

from __future__ import annotations

from starlette.types import Scope


def route_path(scope: Scope) -> str:
    """The request path below where the app is mounted (``/health`` also when served under ``/jobq``)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] or "/" if root and path.startswith(root) else path


def client(scope: Scope) -> str:
    """The client's address (the proxy's, unless the server was told to trust forwarded headers)."""
    peer = scope.get("client")
    return str(peer[0]) if peer else "unknown"


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (``name`` in lower case), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
