"""``jobq jobs cancel``, ``jobq queues list|pause|resume`` and ``jobq periodic list``: the controls of the main
queue, each a call of ``App``."""

from __future__ import annotations

import click

from jobq.cli.bulk import confirm, say
from jobq.cli.context import Context
from jobq.cli.options import Safety, by_option, json_option, option, safety_options
from jobq.cli.output import echo_json, show, table, text, timestamp
from jobq.errors import JobqError
from jobq.serialize import periodic_to_dict, queues_to_list


@click.command()
@click.argument("job_ids", metavar="ID...", nargs=-1)
@option("--task", help="Every job of this task.")
@option("--queue", help="Every job of this queue.")
@option("--tenant", help="Every job of this tenant.")
@by_option
@safety_options
@json_option
@click.pass_obj
def cancel(
    ctx: Context, job_ids: tuple[str, ...], task: str | None, queue: str | None, tenant: str | None,
    by: str | None, safety: Safety,
) -> None:  # fmt: skip
    """Cancel jobs: queued ones at once, running ones are asked to stop (by id, or every match of the filters)."""
    filters = {name: value for name, value in (("task", task), ("queue", queue), ("tenant", tenant)) if value}
    if bool(job_ids) == bool(filters):
        raise click.UsageError("give job ids, or filters (--task, --queue, --tenant), not both nor neither")
    app = ctx.app()
    if job_ids:
        results = {job_id: app.cancel(job_id, by=by) for job_id in job_ids}
        if ctx.as_json:
            echo_json({"results": [{"job_id": i, "cancelled": done} for i, done in results.items()]})
        for job_id, done in results.items():
            say(ctx, f"{job_id}: {'cancelled (a running job stops within a second)' if done else 'already finished'}")
        return
    if safety.dry_run:
        raise click.UsageError(
            "--dry-run counts nothing here: list the jobs with `jobq jobs list` and the same filters"
        )
    confirm(
        f"Cancel every job with {', '.join(f'{k}={v}' for k, v in filters.items())}?", safety=safety, past="cancelled"
    )
    count = app.cancel_many(task=task, queue=queue, tenant=tenant, by=by)
    if ctx.as_json:
        echo_json({"cancelled": count.cancelled, "stopping": count.stopping})
    say(ctx, f"Cancelled {count.cancelled} queued jobs; asked {count.stopping} running ones to stop.")


@click.group()
def queues() -> None:
    """List, pause and resume queues (a paused queue keeps its jobs; no worker claims them)."""


@queues.command(name="list")
@json_option
@click.pass_obj
def list_queues(ctx: Context) -> None:
    """Every queue with its counts, and whether it is paused."""
    app = ctx.app()
    listed = queues_to_list(app.counts(), app.paused_queues(), {task.options.queue for task in app.tasks.values()})
    if ctx.as_json:
        echo_json({"queues": listed})
        return
    shown = table("queue", "queued", "running", "state", title="Queues")
    for queue in listed:
        by = f" by {queue['paused_by']}" if queue["paused_by"] else ""
        state = (
            text(f"paused since {queue['paused_at'][:19]}{by}", "bold yellow") if queue["paused"] else text("active")
        )
        shown.add_row(text(queue["queue"]), text(f"{queue['queued']:,}"), text(f"{queue['running']:,}"), state)
    show(shown)


@queues.command()
@click.argument("name")
@by_option
@json_option
@click.pass_obj
def pause(ctx: Context, name: str, by: str | None) -> None:
    """Stop every worker claiming from a queue (running jobs finish); held in the database until resumed."""
    changed = ctx.app().pause(name, by=by)
    if ctx.as_json:
        echo_json({"queue": name, "paused": True, "changed": changed})
    say(ctx, f"Queue {name} paused." if changed else f"Queue {name} was paused already.")


@queues.command()
@click.argument("name")
@json_option
@click.pass_obj
def resume(ctx: Context, name: str) -> None:
    """Let workers claim from a paused queue again."""
    changed = ctx.app().resume(name)
    if ctx.as_json:
        echo_json({"queue": name, "paused": False, "changed": changed})
    say(ctx, f"Queue {name} resumed." if changed else f"Queue {name} was not paused.")


@click.group()
def periodic() -> None:
    """Periodic schedules (declared in code with @app.periodic: give --app)."""


@periodic.command(name="list")
@json_option
@click.pass_obj
def list_periodic(ctx: Context) -> None:
    """Each schedule with its last run (from the database) and its next."""
    if not ctx.app_path:
        raise JobqError("periodic schedules are declared in code: give --app module:attr (or JOBQ_APP)")
    found = ctx.app().periodic_status()
    if ctx.as_json:
        echo_json({"periodic": [periodic_to_dict(status) for status in found]})
        return
    if not found:
        click.echo("No periodic schedules in this app.")
        return
    shown = table("name", "schedule", "last run", "next run", title="Periodic schedules")
    for status in found:
        last = f"{timestamp(status.last_run)} ({status.last_status or 'gone'})" if status.last_run else "never"
        shown.add_row(text(status.schedule.name), text(str(status.schedule)), text(last),
                      text(timestamp(status.next_run)))  # fmt: skip
    show(shown)
