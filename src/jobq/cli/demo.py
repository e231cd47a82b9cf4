"""``jobq demo``: the failure path end to end, on a temporary SQLite file, in a few seconds."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import click

from jobq.app import App
from jobq.retry import Fixed


class ProviderError(Exception):
    """What an SMS provider's client raises for an HTTP error."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code


class DemoProvider:
    """A pretend SMS provider: some numbers are invalid, one crashes our code until it is fixed."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.bug_fixed = False

    def send(self, to: str, body: str) -> None:
        if to.startswith("+1555000"):
            raise ProviderError(400, f"invalid phone number {to}")
        if to.startswith("+1555999"):
            time.sleep(0.4)  # the provider hangs; the task's timeout gives up first
        if to.startswith("+1555777") and not self.bug_fixed:
            raise KeyError("template 'welcome' not found for locale fr-CA")
        self.sent.append(to)


def build_app(url: str, provider: DemoProvider) -> App:
    """The demo's app: one task that sends a message through an injected provider."""
    app = App(url, lease=5.0, dependencies={"provider": provider})

    @app.task(name="send_sms", max_attempts=3, backoff=Fixed(0.0), timeout=0.2)
    def send_sms(to: str, body: str, *, provider: DemoProvider) -> None:
        provider.send(to, body)

    return app


@click.command()
def demo() -> None:
    """Run a short demonstration on a temporary SQLite file."""
    logging.basicConfig(level=logging.WARNING, format="  log: %(message)s")
    with tempfile.TemporaryDirectory(prefix="jobq-demo-") as folder:
        _run(Path(folder) / "demo.db")


def _run(path: Path) -> None:
    provider = DemoProvider()
    app = build_app(f"sqlite:///{path}", provider)
    say = click.echo
    say(f"jobq demo — jobs live in {path}\n")
    numbers = [f"+1555123{i:04d}" for i in range(12)] + ["+15550001234", "+15550005678"]
    numbers += ["+15559990001", "+15557770001", "+15557770002"]
    for number in numbers:
        app.enqueue("send_sms", {"to": number, "body": "Your code is 4242"}, tenant="acme")
    say(f"1. Enqueued {len(numbers)} SMS jobs: 12 fine, 2 to invalid numbers, 1 to a provider that hangs,")
    say("   2 that hit a bug in our template code.\n")
    say("2. A worker runs them (up to 3 attempts each, 0.2 s timeout):")
    started = time.monotonic()
    summary = app.run_worker(concurrency=4, burst=True, install_signal_handlers=False)
    say(f"\n   {summary.succeeded} sent, {summary.retried} retried, {summary.dead} moved to the dead-letter queue"
        f" in {time.monotonic() - started:.1f} s.\n")  # fmt: skip
    _show_dlq(app)
    _replay(app, provider)
    app.close()


def _show_dlq(app: App) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="3. The dead-letter queue: nothing is lost, every failure is classified")
    for column in ("id", "to", "class", "attempts", "error"):
        table.add_column(column)
    for letter in app.dlq.list(with_payload=True):
        table.add_row(letter.id[-8:], letter.payload["kwargs"]["to"], letter.error_class,
                      str(letter.attempts), f"{letter.error_type}: {letter.error_message}")  # fmt: skip
    console = Console()
    console.print(table)
    click.echo("   Grouped by fingerprint (the same failure across jobs):")
    for group in app.dlq.groups(by="fingerprint"):
        click.echo(f"   - {group.count} x {group.sample_error_type}: {group.sample_message}")
    click.echo(
        "   user_error: bad input, not retried.  recoverable: timeouts, will heal.  unknown: a bug to look at.\n"
    )


def _replay(app: App, provider: DemoProvider) -> None:
    provider.bug_fixed = True
    bug = app.dlq.list(search="template")
    click.echo(f"4. We fix the template bug and replay its {len(bug)} dead letters:")
    for letter in bug:
        job_id = app.dlq.replay(letter.id)
        click.echo(f"   replayed {letter.id[-8:]} as job {job_id[-8:]}")
    app.run_worker(concurrency=2, burst=True, install_signal_handlers=False)
    for letter in bug:
        replayed = app.dlq.get(letter.id)
        job = app.get_job(replayed.replayed_as) if replayed and replayed.replayed_as else None
        click.echo(f"   {letter.id[-8:]} → {job.status if job else 'missing'}")
    try:
        app.dlq.replay(bug[0].id)
    except Exception as exc:  # noqa: BLE001 - shown to the reader: the refusal is the point
        click.echo(f"   Replaying it twice is refused: {exc}")
    stats = app.stats()["dlq"]
    click.echo(f"\n5. Stats: {stats['total_failed']} dead letters, {stats['permanent_failures']} permanent, "
               f"average {stats['avg_retries']} attempts.")  # fmt: skip
