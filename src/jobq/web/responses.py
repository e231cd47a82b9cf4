"""JSON responses that always encode, whatever text the database holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse


class JsonResponse(JSONResponse):
    """Compact JSON. A lone surrogate in stored text (an undecodable file name in a traceback, say) is written
    as its ``\\udXXX`` escape instead of failing the response."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8", "backslashreplace")


def ok(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> JsonResponse:
    """A JSON answer."""
    return JsonResponse(data, status_code=status, headers=dict(headers or {}))
