"""Replay, abandon and purge from the dashboard, in two steps: a confirmation that states how many dead letters
the action will change, then the action itself, which redirects back with what happened.

``POST /dashboard/actions`` only counts and asks; ``POST /dashboard/actions/run`` acts. Both are
state-changing requests as far as security goes: write access and a valid CSRF token are required.
"""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from jobq.errors import JobqError
from jobq.job import Payload
from jobq.web.auth import caller
from jobq.web.dashboard.board import Board, Form
from jobq.web.dashboard.editing import edited_payload, still_redacted
from jobq.web.dashboard.operations import Outcome, run
from jobq.web.dashboard.query import Filter, Invalid
from jobq.web.dashboard.render import Flash, base_url
from jobq.web.dashboard.selection import Selection, plan, selection

MAX_RATE = 10_000.0
MAX_NOTE = 2000
MAX_THROTTLED_SECONDS = 600
"""A throttled replay runs in its request: one that would take longer is refused, with what to do instead."""


def confirm(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/actions``: the confirmation page."""
    assert form is not None
    back = board.back(request, form.get("back"), f"{base_url(request)}/dead-letters")
    try:
        chosen = selection(form, max_ids=board.limits.max_bulk)
        payload = _payload(board, chosen, form.get("payload")) if form.get("payload") else None
    except (Invalid, JobqError) as exc:
        return _refused(board, request, str(exc), back)
    return board.pages.render(
        request, "confirm.html", nav="dead-letters", chosen=chosen, plan=plan(board.app, chosen), back=back,
        payload_text=form.get("payload"), still_redacted=payload is not None and still_redacted(payload),
        rate=form.get("rate"), note=form.get("note"), error=None,
    )  # fmt: skip


def perform(board: Board, request: Request, form: Form | None) -> Response:
    """``POST /dashboard/actions/run``: act, then go back with what happened."""
    assert form is not None
    back = board.back(request, form.get("back"), f"{base_url(request)}/dead-letters")
    try:
        chosen = selection(form, max_ids=board.limits.max_bulk)
        options = _options(board, chosen, form)
    except (Invalid, JobqError) as exc:
        return _refused(board, request, str(exc), back)
    outcome = run(board.app, chosen, by=caller(request.scope, front_end="dashboard"), **options)
    board.suggestions.forget()
    if chosen.action == "purge" and chosen.ids and back.startswith(f"{base_url(request)}/dead-letters/"):
        back = f"{base_url(request)}/dead-letters"  # the letter's own page is gone
    return board.pages.redirect(request, back, flash=_flash(request, chosen, outcome))


def _options(board: Board, chosen: Selection, form: Form) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if chosen.action == "replay":
        options["rate"] = rate = _rate(form.get("rate"))
        if rate is not None:
            _check_duration(board, chosen, rate)
        if form.get("payload"):
            options["payload"] = _payload(board, chosen, form.get("payload"))
    elif chosen.action == "abandon":
        note = " ".join(form.get("note").split())
        if not note:
            raise Invalid("say why in the note: it stays on every abandoned dead letter")
        if len(note) > MAX_NOTE:
            raise Invalid(f"the note is longer than {MAX_NOTE} characters")
        options["note"] = note
    return options


def _rate(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        rate = float(text)
    except ValueError:
        raise Invalid(f"the rate must be a number of jobs per second, not {text[:40]!r}") from None
    if not math.isfinite(rate) or not 0 < rate <= MAX_RATE:
        raise Invalid(f"the rate must be between 0 and {MAX_RATE:g} jobs per second")
    return rate


def _check_duration(board: Board, chosen: Selection, rate: float) -> None:
    changes = plan(board.app, chosen).changes
    if changes / rate > MAX_THROTTLED_SECONDS:
        raise Invalid(
            f"at {rate:g} a second, {changes:,} replays take {changes / rate / 60:.0f} minutes, longer than this page "
            f"waits ({MAX_THROTTLED_SECONDS // 60} minutes): raise the rate, narrow the filter, or run "
            f"`jobq dlq replay --all --rate {rate:g}` with the same filters"
        )


def _payload(board: Board, chosen: Selection, text: str) -> Payload:
    if chosen.action != "replay" or len(chosen.ids) != 1 or chosen.filter is not None:
        raise Invalid("an edited payload replays exactly one dead letter")
    letter = board.app.dlq.get(chosen.ids[0])
    if letter is None:
        raise Invalid(f"no dead letter {chosen.ids[0]}")
    payload = edited_payload(text, letter.payload, board.redactor)
    json.dumps(payload)  # already JSON: the core checks the arguments again
    return payload


def _refused(board: Board, request: Request, error: str, back: str) -> Response:
    return board.pages.render(request, "refused.html", status=400, nav="dead-letters", error=error, back=back)


def _flash(request: Request, chosen: Selection, outcome: Outcome) -> Flash:
    """What happened, in words, and where to see it."""
    noun = "dead letter" if outcome.changed == 1 else "dead letters"
    done = {
        "replay": f"Replayed {outcome.changed:,} {noun} as new jobs",
        "abandon": f"Abandoned {outcome.changed:,} {noun}",
        "purge": f"Purged {outcome.changed:,} {noun}",
    }[chosen.action]
    left = []
    if outcome.skipped:
        why = "replayed already" if chosen.action == "replay" else "resolved already"
        left.append(f"{outcome.skipped:,} {why}")
    if outcome.missing:
        left.append(f"{outcome.missing:,} no longer there")
    if outcome.unreadable:
        left.append(f"{outcome.unreadable:,} with a stored payload that cannot be read (replay each with an edit)")
    if outcome.refused:
        left.append(f"{outcome.refused:,} could not be singled out (purge those by filter)")
    text = done + (f"; left alone: {', '.join(left)}." if left else ".")
    kind = "ok" if outcome.changed or not left else "warn"
    base = base_url(request)
    link = None
    if chosen.action == "replay" and outcome.job_ids:
        if len(outcome.job_ids) == 1:
            link = ("Open the new job", f"{base}/jobs/{outcome.job_ids[0]}")
        else:
            replayed = (chosen.filter or Filter()).with_(resolution="replayed")
            link = ("See the replays and their outcome", f"{base}/dead-letters{replayed.query()}")
    return Flash(text, kind, link)
