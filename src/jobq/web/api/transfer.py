"""Dead letters out and in: a streamed, redacted export (JSON Lines or CSV) and an import of JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from functools import partial
from typing import Any

from starlette.responses import Response, StreamingResponse

from jobq.dlq import CSV_COLUMNS
from jobq.job import DeadLetter
from jobq.web.api.dead_letters import letter_json
from jobq.web.api.filters import DEAD_LETTER_FILTERS, chosen
from jobq.web.api.schemas import COUNT, object_of
from jobq.web.api.services import Services
from jobq.web.endpoints import Call, Endpoint, Param, Reply, TextBody, decode_json
from jobq.web.problems import Problem
from jobq.web.responses import ok
from jobq.web.values import Choice

TAG = "dead letters"
PAGE = 500
JSONL = "application/x-ndjson"
CSV = "text/csv"
IMPORT_TYPES = (JSONL, "application/jsonl", "text/plain")


def endpoints(services: Services) -> list[Endpoint]:
    """The endpoints of this module, bound to ``services``."""
    s = services
    return [
        Endpoint(
            "GET", "/api/dlq/export", "exportDeadLetters", "Matching dead letters as JSON Lines or CSV, redacted",
            TAG, partial(export, s),
            (Reply(200, "The dead letters, newest first, streamed (CSV: the summary columns).",
                   media_types=(JSONL, CSV), headers={"Content-Disposition": "A file name to save it as."}),),
            query={"format": Param(Choice(("jsonl", "csv")), "The file format.", default="jsonl"),
                   **DEAD_LETTER_FILTERS},
        ),
        Endpoint(
            "POST", "/api/dlq/import", "importDeadLetters", "Store dead letters from JSON Lines (an export)", TAG,
            partial(import_, s), (Reply(200, "How many were new (ids already present are skipped).",
                                        object_of(imported=COUNT)),),
            body=TextBody(IMPORT_TYPES, "One dead letter per line, as the JSON Lines export writes them."),
            errors=(422,),
        ),
    ]  # fmt: skip


def export(s: Services, call: Call) -> Response:
    filters = chosen(call.query, DEAD_LETTER_FILTERS)
    first = s.app.dlq.list(limit=PAGE, with_payload=True, **filters)  # here, so that errors are still problems
    rows = (letter_json(s, letter) for letter in _letters(s, first, filters))
    if call.query["format"] == "csv":
        lines, media_type, name = _csv(rows), f"{CSV}; charset=utf-8", "dead-letters.csv"
    else:
        lines, media_type, name = _jsonl(rows), JSONL, "dead-letters.jsonl"
    chunks = (line.encode("utf-8", "backslashreplace") for line in lines)
    return StreamingResponse(
        chunks, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _letters(s: Services, first: list[DeadLetter], filters: dict[str, Any]) -> Iterator[DeadLetter]:
    """Every match, a page at a time (read in the server's worker threads as the client reads on)."""
    page = first
    while True:
        yield from page
        if len(page) < PAGE:
            return
        page = s.app.dlq.list(limit=PAGE, cursor=page[-1].id, with_payload=True, **filters)


def _jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def _csv(rows: Iterator[dict[str, Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def import_(s: Services, call: Call) -> Response:
    text: str = call.body
    for number, line in enumerate(text.split("\n"), start=1):  # as import_ reads: JSON may hold U+2028
        if line.strip():
            try:
                decode_json(line.encode("utf-8"))
            except Problem as problem:
                raise Problem(422, f"line {number}: {problem.detail}") from None
    return ok({"imported": s.app.dlq.import_(io.StringIO(text))})
