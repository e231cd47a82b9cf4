"""What an action applies to — some dead letters by id, or every one matching a filter — and how many
letters it will change, counted by the core (``app.dlq.preview``) before the operator confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobq.app import App
from jobq.bulk import ACTIONS, Action, Preview
from jobq.job import DeadLetterId
from jobq.web.dashboard.board import Form
from jobq.web.dashboard.query import Filter, Invalid


@dataclass(frozen=True)
class Selection:
    """An action and its targets: ``ids``, or (when ``filter`` is set) every letter matching it."""

    action: Action
    ids: tuple[DeadLetterId, ...] = ()
    filter: Filter | None = None
    force: bool = False

    @property
    def everything(self) -> bool:
        """Whether it targets the whole DLQ (a filter with no field)."""
        return self.filter is not None and not self.filter

    def filters(self) -> dict[str, Any]:
        """The filter as ``app.dlq`` arguments."""
        assert self.filter is not None
        return self.filter.letter_filters()

    def hidden_fields(self) -> list[tuple[str, str]]:
        """The form fields that carry this selection to the next step."""
        fields = [("action", self.action), ("scope", "all" if self.filter is not None else "ids")]
        fields += [("id", dead_letter_id) for dead_letter_id in self.ids]
        fields += list(self.filter.values.items()) if self.filter is not None else []
        return fields + ([("force", "1")] if self.force else [])


def selection(form: Form, *, max_ids: int) -> Selection:
    """The selection a form submitted; Invalid says what is wrong with it."""
    action = form.get("action")
    if action not in ACTIONS:
        raise Invalid(f"unknown action {action[:40]!r}")
    force = form.get("force") == "1" and action == "replay"
    if form.get("scope") == "all":
        chosen = Filter.letters(form.as_dict())
        chosen.letter_filters()  # refuse a bad value now, not halfway through
        return Selection(action, filter=chosen, force=force)
    ids = tuple(dict.fromkeys(DeadLetterId(value.strip()) for value in form.getlist("id") if value.strip()))
    if not ids:
        raise Invalid("select at least one dead letter (or choose all that match)")
    if len(ids) > max_ids:
        raise Invalid(f"at most {max_ids} dead letters can be selected at once; choose all that match instead")
    return Selection(action, ids=ids, force=force)


def plan(app: App, chosen: Selection) -> Preview:
    """Count what ``chosen`` would change now: the core's rule (``app.dlq.preview``)."""
    if chosen.filter is not None:
        return app.dlq.preview(chosen.action, force=chosen.force, **chosen.filters())
    return app.dlq.preview(chosen.action, ids=chosen.ids, force=chosen.force)
