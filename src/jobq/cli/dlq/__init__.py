"""``jobq dlq``: triage the dead-letter queue."""

from __future__ import annotations

import click

from jobq.cli.dlq.audit import audit
from jobq.cli.dlq.browse import groups, inspect, list_dead
from jobq.cli.dlq.redrives import redrives
from jobq.cli.dlq.repair import abandon, purge, replay
from jobq.cli.dlq.transfer import export, import_dead


class AliasedGroup(click.Group):
    """A group whose commands answer to a second name; the canonical name keeps env and config keys stable."""

    aliases = {"retry": "replay"}

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, self.aliases.get(cmd_name, cmd_name))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return (command.name if command is not None else name), command, rest


@click.group(cls=AliasedGroup)
def dlq() -> None:
    """Triage the dead-letter queue."""


for command in (list_dead, inspect, groups, replay, abandon, purge, export, import_dead, redrives, audit):
    dlq.add_command(command)
