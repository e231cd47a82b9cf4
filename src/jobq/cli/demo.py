"""``jobq demo``: the messaging story on a temporary SQLite file, told in plain words, in a few seconds.

A message-sending service queues text messages; a pretend provider (``demo_provider``, injected into the
task) rate-limits, overloads, rejects invalid numbers, crashes and goes down. The reader sees each failure
retried or dead-lettered by class, the dead-letter queue as ``jobq dlq list`` shows it, a fix, a replay and
its outcome. The full example, with a real HTTP provider, is ``examples/messaging`` in the repository.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import click

from jobq.app import App
from jobq.cli.context import Context
from jobq.cli.demo_provider import DemoProvider
from jobq.cli.listings import dead_letters_table, groups_table
from jobq.cli.output import plural, redacted_groups, show
from jobq.errors import AlreadyReplayed
from jobq.job import DeadLetter, Job, JobId
from jobq.recovery import RecoveryPolicy
from jobq.redact import Redactor
from jobq.retry import Fixed

TASK = "messaging.send"
BATCH: tuple[tuple[str, str], ...] = (
    ("acme", "+15551230001"), ("acme", "+15551230002"), ("acme", "+15551230003"),
    ("globex", "+15551230004"), ("globex", "+15551230005"), ("initech", "+15551230006"),
    ("acme", "+15554290001"),  # 429 with Retry-After once, then delivered
    ("globex", "+15555030001"),  # 503 with Retry-After once, then delivered
    ("acme", "+15550001111"), ("globex", "+15550002222"),  # 400 invalid number
    ("initech", "+15555000001"),  # 500: the provider's own bug
)  # fmt: skip
DURING_OUTAGE: tuple[tuple[str, str], ...] = (("acme", "+15551239991"), ("globex", "+15551239992"))
COOLDOWN = 1.0
say = click.echo


def build_app(url: str, provider: DemoProvider) -> App:
    """The demo's app: one task that sends a message through the provider the app injects."""
    recovery = RecoveryPolicy(cooldown=COOLDOWN)  # 5 minutes by default; a second keeps the demo short
    app = App(url, lease=5.0, dependencies={"provider": provider}, recovery=recovery)

    @app.task(name=TASK, max_attempts=3, backoff=Fixed(0.1))
    def send(message_id: str, to: str, body: str, *, provider: DemoProvider) -> None:
        provider.send(message_id, to, body)

    return app


@click.command()
@click.pass_obj
def demo(ctx: Context) -> None:
    """Watch a message-sending service fail in every way, and recover (temporary database, ~3 s)."""
    # On stdout, so that jobq's own log lines (one per dead-lettered job) fall in place in the story.
    logging.basicConfig(level=logging.WARNING, format="   log: %(message)s", stream=sys.stdout)
    with tempfile.TemporaryDirectory(prefix="jobq-demo-") as folder:
        path = Path(folder) / "demo.db"
        provider = DemoProvider()
        with build_app(f"sqlite:///{path}", provider) as app:
            say(f"jobq demo: a message-sending service meets a flaky SMS provider.\nJobs live in {path}.\n")
            _send_batch(app)
            _outage(app, provider)
            _triage(app, ctx.redactor(app))
            _fix_and_replay(app, provider)
            _stats(app)


def _enqueue(app: App, batch: Sequence[tuple[str, str]]) -> list[JobId]:
    return [
        app.enqueue(TASK, {"message_id": f"msg-{to[-4:]}", "to": to, "body": "Your code is 4242"}, tenant=tenant)
        for tenant, to in batch
    ]


def _drain(app: App) -> None:
    """Run burst workers until no job is left, sleeping until retries scheduled for later come due."""
    while True:
        app.run_worker(concurrency=4, burst=True, install_signal_handlers=False)
        waiting = [job.run_at.timestamp() for job in app.list_jobs(status="queued", limit=1000) if job.run_at]
        if not waiting:
            return
        time.sleep(max(0.0, min(waiting) - time.time()))


def _jobs(app: App, ids: Sequence[JobId]) -> list[Job]:
    return [job for job in map(app.get_job, ids) if job is not None]


def _send_batch(app: App) -> None:
    ids = _enqueue(app, BATCH)
    say(f"1. We queue {len(ids)} text messages for 3 tenants. The pretend provider will deliver 6 at once,")
    say('   rate-limit 1 (HTTP 429, "Retry-After: 1"), be overloaded for 1 (HTTP 503, "Retry-After: 1"),')
    say("   reject 2 invalid numbers (HTTP 400), and crash on 1 (HTTP 500, a bug on its side).\n")
    say("2. A worker runs them: up to 3 attempts each, the provider injected into the task by the app.")
    started = time.monotonic()
    _drain(app)
    jobs = _jobs(app, ids)
    delivered = [job for job in jobs if job.status == "succeeded"]
    waits = [_waited(job) for job in delivered if job.attempts > 1]
    dead = [job for job in jobs if job.status == "dead"]
    at_once = sum(job.attempts == 1 for job in dead)
    later = f", {min(waits):.1f} s after the first as Retry-After asked" if waits else ""
    say(f"   In {time.monotonic() - started:.1f} s: {len(delivered)} delivered, {len(waits)} of them on a second "
        f"attempt{later};")  # fmt: skip
    say(f"   {len(dead)} moved to the dead-letter queue: {at_once} at once (retrying cannot fix a wrong number), "
        f"{len(dead) - at_once} after 3 attempts.\n")  # fmt: skip


def _waited(job: Job) -> float:
    """Seconds between the last failed attempt and the attempt that succeeded."""
    if job.started_at is None or not job.errors:
        return 0.0
    return job.started_at.timestamp() - job.errors[-1].at.timestamp()


def _outage(app: App, provider: DemoProvider) -> None:
    provider.down()
    ids = _enqueue(app, DURING_OUTAGE)
    say(f"3. The provider goes down, and {plural(len(ids), 'more message')} go out:")
    _drain(app)
    dead = [job for job in _jobs(app, ids) if job.status == "dead"]
    say(f"   every attempt times out; after 3 attempts, {len(dead)} join the dead-letter queue.\n")


def _triage(app: App, redactor: Redactor) -> None:
    say("4. The dead-letter queue keeps every failed job, classified (this is `jobq dlq list`, PII redacted):\n")
    show(dead_letters_table([redactor.dead_letter(letter) for letter in app.dlq.list()]))
    say("\n   Grouped by class (`jobq dlq groups --by class`):\n")
    show(groups_table(redacted_groups(redactor, app.dlq.groups(by="class")), "class"))
    say("\n   user_error: bad input, never retried; tell the sender.  system_error: something is broken;")
    say("   tell the operators.  recoverable: a passing failure; it heals once the cause is gone.\n")


def _fix_and_replay(app: App, provider: DemoProvider) -> None:
    say("5. We fix what can be fixed, and replay:")
    provider.up()
    pending = list(app.dlq.list(resolution="pending_recovery"))
    due = max((letter.recover_at.timestamp() for letter in pending if letter.recover_at), default=time.time())
    say(f"   - the provider is back: the {plural(len(pending), 'timed-out message')} wait in the recovery queue,")
    say(f"     and a worker replays them by itself after a cool-down ({COOLDOWN:g} s here, 5 minutes by default);")
    wrong = list(app.dlq.list(error_class="user_error", with_payload=True))
    replayed = [app.dlq.replay(letter.id, payload=_corrected(letter)) for letter in wrong]
    say(f"   - the senders correct {plural(len(wrong), 'number')}: each replayed with the fixed payload "
        "(`app.dlq.replay(id, payload=...)`);")  # fmt: skip
    for letter in app.dlq.list(error_class="system_error"):
        app.dlq.abandon(letter.id, note="provider bug, ticket PRV-1234 opened")
        say(f"   - the HTTP 500 is the provider's bug: dead letter {letter.id} abandoned with a note.")
    time.sleep(max(0.0, due - time.time()))
    _drain(app)
    jobs = _jobs(app, replayed)
    delivered = sum(job.status == "succeeded" for job in jobs)
    recovered = app.dlq.count(resolution="recovered")
    say(f"   Outcome: {recovered} recovered by themselves; {plural(len(jobs), 'replay')} by hand, {delivered} "
        f"delivered, {len(jobs) - delivered} failed again.")  # fmt: skip
    try:
        app.dlq.replay(wrong[0].id)
    except AlreadyReplayed as exc:
        say(f"   Replaying one of them a second time is refused:\n     {exc}\n")


def _corrected(letter: DeadLetter) -> dict[str, object]:
    """The payload with the recipient's number as its sender corrected it."""
    kwargs = dict(letter.payload["kwargs"])
    kwargs["to"] = str(kwargs["to"]).replace("+1555000", "+1555123")
    return {"args": [], "kwargs": kwargs}


def _stats(app: App) -> None:
    dlq = app.stats()["dlq"]
    letters = list(app.dlq.list())
    replayed = sum(letter.resolution == "replayed" for letter in letters)
    abandoned = sum(letter.resolution == "abandoned" for letter in letters)
    recovered = dlq["recovery"]["recovered"]
    say(f"6. The dead letters stay on record (`jobq stats`): {dlq['total_failed']} in all, {recovered} recovered, "
        f"{replayed} replayed, {abandoned} abandoned;\n   {dlq['permanent_failures']} were permanent failures "
        f"(not recoverable), {dlq['avg_retries']} attempts on average.")  # fmt: skip
    say("\nNext: the same story against a real HTTP provider is examples/messaging in the repository.")
