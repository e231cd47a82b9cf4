"""What an action applies to — some dead letters by id, or every one matching a filter — and how many
letters it will change, counted before the operator confirms.

Counts follow the core's rules: replay takes letters still waiting (``open``, ``pending_recovery``) or, with
``force``, any; abandon takes only letters still waiting; purge takes every match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from jobq.app import App
from jobq.web.dashboard.board import Form
from jobq.web.dashboard.query import Filter, Invalid

Action = Literal["replay", "abandon", "purge"]
ACTIONS: tuple[Action, ...] = ("replay", "abandon", "purge")
WAITING = ("open", "pending_recovery")
REPLAYED = ("replayed", "recovered")


@dataclass(frozen=True)
class Selection:
    """An action and its targets: ``ids``, or (when ``filter`` is set) every letter matching it."""

    action: Action
    ids: tuple[str, ...] = ()
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
    ids = tuple(dict.fromkeys(value.strip() for value in form.getlist("id") if value.strip()))
    if not ids:
        raise Invalid("select at least one dead letter (or choose all that match)")
    if len(ids) > max_ids:
        raise Invalid(f"at most {max_ids} dead letters can be selected at once; choose all that match instead")
    return Selection(action, ids=ids, force=force)


@dataclass(frozen=True, slots=True)
class Plan:
    """How many letters an action will change, out of how many it targets."""

    changes: int
    targets: int

    @property
    def skipped(self) -> int:
        """Targets the action leaves alone (already replayed, already resolved, gone)."""
        return self.targets - self.changes


def plan(app: App, chosen: Selection) -> Plan:
    """Count what ``chosen`` would change now."""
    if chosen.filter is not None:
        filters = chosen.filters()
        targets = app.dlq.count(**filters)
        if chosen.action == "purge" or (chosen.action == "replay" and chosen.force):
            return Plan(targets, targets)
        if chosen.action == "replay" and "resolution" in filters:  # as replay_many: that resolution, unforced
            return Plan(0 if filters["resolution"] in REPLAYED else targets, targets)
        return Plan(app.dlq.count(**filters, unresolved=True), targets)
    letters = [app.dlq.get(dead_letter_id) for dead_letter_id in chosen.ids]
    found = [letter for letter in letters if letter is not None]
    if chosen.action == "purge" or (chosen.action == "replay" and chosen.force):
        return Plan(len(found), len(chosen.ids))
    if chosen.action == "replay":
        return Plan(sum(letter.resolution not in REPLAYED for letter in found), len(chosen.ids))
    return Plan(sum(letter.resolution in WAITING for letter in found), len(chosen.ids))
