"""``jobq recover``: the interactive recovery tool, a numbered menu over plain stdin and stdout.

Plain prompts (no full-screen UI) so that it works over any terminal, and can be driven by piping
answers into it — which is how the tests use it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import click

from jobq.app import App
from jobq.cli.bulk import Change, Selection, abandon_change, describe, replay_change
from jobq.cli.context import Context
from jobq.cli.details import show_dead_letter, show_stats
from jobq.cli.dlq.transfer import export_to
from jobq.cli.listings import dead_letters_table
from jobq.cli.options import by_option, no_redact_option
from jobq.cli.output import plural, show
from jobq.job import DeadLetterId, Resolution
from jobq.redact import Redactor

SHOWN = 20
MENU = """\
  1  list failures       open dead letters, newest first
  2  stats               queue and dead-letter counts
  3  recovery queue      dead letters waiting to be replayed automatically
  4  show one failure    payload, error history, tracebacks
  5  replay              queue failures again as new jobs
  6  abandon             give up on failures, with a note
  7  export              write failures to a JSON Lines or CSV file
  q  quit"""


@click.command()
@by_option
@no_redact_option()
@click.pass_obj
def recover(ctx: Context, by: str | None) -> None:
    """Interactive recovery tool: a menu over plain stdin/stdout.

    List failures, stats, the recovery queue, one failure in full, replay, abandon, export (PII redacted
    in what it shows and exports, unless --no-redact).
    """
    app = ctx.app()
    Session(app, ctx.redactor(app), by=by).run()


class Session:
    """One recovery session: the app, what it shows through, who makes its changes, and the ids of the last list
    shown (so ``3`` can mean its third row)."""

    def __init__(self, app: App, redactor: Redactor, *, by: str | None = None) -> None:
        self.app = app
        self.redactor = redactor
        self.by = by
        self.listed: list[DeadLetterId] = []

    def run(self) -> None:
        """Show the menu and act on each choice until ``q`` or the end of the input."""
        opened = self.app.dlq.count(resolution="open")
        waiting = self.app.dlq.count(resolution="pending_recovery")
        click.echo(f"jobq recover — {self.app.url}")
        click.echo(f"{plural(opened, 'open failure')}, {waiting:,} in the recovery queue.\n\n{MENU}")
        while True:
            choice = self.ask("\nchoice (1-7, m for the menu, q to quit)")
            if choice is None or choice.lower() in ("q", "quit", "exit"):
                click.echo("Bye.")
                return
            action = ACTIONS.get(choice.lower())
            if action is not None:
                action(self)
            elif choice:
                click.echo(f"Unknown choice {choice!r}.")

    def ask(self, question: str, default: str = "") -> str | None:
        """One answer (stripped); None at the end of the input or on Ctrl-C."""
        try:
            answer: str = click.prompt(question, default=default, show_default=bool(default))
        except click.Abort:
            return None
        _echo_piped(answer)
        return answer.strip()

    def confirm(self, question: str) -> bool:
        """Yes or no, no by default (and at the end of the input)."""
        try:
            answer = click.confirm(question, default=False)
        except click.Abort:
            return False
        _echo_piped("y" if answer else "n")
        return answer

    # -- the actions ------------------------------------------------------------------------------

    def list_failures(self) -> None:
        """Open dead letters, numbered."""
        self._list("open", "open failure", empty="No open failures.")

    def recovery_queue(self) -> None:
        """Dead letters waiting for automatic recovery, numbered."""
        self._list("pending_recovery", "dead letter in the recovery queue", empty="The recovery queue is empty.")

    def _list(self, resolution: Resolution, noun: str, *, empty: str) -> None:
        letters = self.app.dlq.list(resolution=resolution, limit=SHOWN)
        self.listed = [letter.id for letter in letters]
        if not letters:
            click.echo(empty)
            return
        show(dead_letters_table([self.redactor.dead_letter(letter) for letter in letters], numbered=True))
        total = self.app.dlq.count(resolution=resolution)
        click.echo(f"{len(letters)} of {plural(total, noun)} shown; pick them by # or id.")

    def stats(self) -> None:
        """The stats tables."""
        show_stats(self.app.stats())

    def show_one(self) -> None:
        """One dead letter in full."""
        ids = self.pick("show which failure (# or id)")
        for dead_letter_id in ids[:1]:
            letter = self.app.dlq.get(dead_letter_id)
            if letter is None:
                click.echo(f"No dead letter {dead_letter_id}.")
            else:
                show_dead_letter(self.redactor.dead_letter(letter))

    def replay(self) -> None:
        """Replay the picked failures, after a yes."""
        self._change(
            replay_change(self.app, force=False, by=self.by), self.pick("replay which (# or ids; all = the list)")
        )

    def abandon(self) -> None:
        """Abandon the picked failures with a note, after a yes."""
        ids = self.pick("abandon which (# or ids; all = the list)")
        note = self.ask("note (why)") if ids else None
        if ids and not note:
            click.echo("A note is needed: nothing was abandoned.")
            return
        self._change(abandon_change(self.app, note=note or "", by=self.by), ids)

    def _change(self, change: Change, ids: list[DeadLetterId]) -> None:
        if not ids:
            return
        if not self.confirm(f"{change.verb.capitalize()} {plural(len(ids), 'dead letter')}?"):
            click.echo(f"Nothing was {change.past}.")
            return
        change.apply(Selection(len(ids), ids), lambda result: click.echo(describe(change.past, change.render(result))))

    def export(self) -> None:
        """Write open failures, the recovery queue, or everything to a file."""
        which = self.ask("export which: open, recovery or all", default="open")
        if which not in ("open", "recovery", "all"):
            click.echo(f"Unknown choice {which!r}: nothing was exported." if which is not None else "")
            return
        default = f"jobq-dlq-{datetime.now().strftime('%Y%m%d-%H%M%S')}.jsonl"
        answer = self.ask("file (.jsonl or .csv)", default=default)
        if not answer:
            return
        path = Path(answer)
        file_format: Literal["jsonl", "csv"] = "csv" if path.suffix.lower() == ".csv" else "jsonl"
        filters: dict[str, Any] = {
            "open": {"resolution": "open"}, "recovery": {"resolution": "pending_recovery"}, "all": {}
        }[which]  # fmt: skip
        count = export_to(
            path, lambda fp: self.app.dlq.export(fp, format=file_format, redactor=self.redactor, **filters)
        )
        how = "PII redacted; `jobq recover --no-redact` exports as stored" if self.redactor.enabled else "as stored"
        click.echo(f"Exported {plural(count, 'dead letter')} to {path} ({how}).")

    def menu(self) -> None:
        """The menu again."""
        click.echo(MENU)

    # -- picking ----------------------------------------------------------------------------------

    def pick(self, question: str) -> list[DeadLetterId]:
        """Ids from an answer of row numbers of the last list, ids, or ``all``; [] when unknown or empty."""
        answer = self.ask(question)
        if not answer:
            return []
        if answer.lower() == "all":
            return list(self.listed)
        ids: list[DeadLetterId] = []
        for token in answer.replace(",", " ").split():
            if token.isdigit() and 1 <= int(token) <= len(self.listed):
                ids.append(self.listed[int(token) - 1])
            elif token.isdigit() and len(token) < 26:
                click.echo(f"No row {token} in the last list (list failures with 1, the recovery queue with 3).")
                return []
            elif self.app.dlq.get(DeadLetterId(token)) is None:
                click.echo(f"No dead letter {token}.")
                return []
            else:
                ids.append(DeadLetterId(token))
        return list(dict.fromkeys(ids))


def _echo_piped(answer: str) -> None:
    """A terminal shows what was typed; piped answers are echoed so that a transcript reads the same."""
    if not sys.stdin.isatty():
        click.echo(answer)


ACTIONS: dict[str, Callable[[Session], None]] = {
    "1": Session.list_failures, "2": Session.stats, "3": Session.recovery_queue, "4": Session.show_one,
    "5": Session.replay, "6": Session.abandon, "7": Session.export, "m": Session.menu, "?": Session.menu,
}  # fmt: skip
