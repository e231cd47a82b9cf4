"""Queue messages: a sample batch that meets every failure, or the recipients given.

python -m examples.messaging.send                      # the sample batch
python -m examples.messaging.send +15551234567 --tenant acme --body "Your code is 4242"
"""

from __future__ import annotations

import argparse
import secrets
from collections.abc import Iterable, Sequence

import jobq
from examples.messaging.tasks import SEND_MESSAGE

SAMPLE: tuple[tuple[str, str], ...] = (
    # (tenant, recipient); see scenarios.py for what each pattern does
    ("acme", "+15551230001"),
    ("acme", "+15551230002"),
    ("acme", "+15551230003"),
    ("globex", "+15551230004"),
    ("globex", "+15551230005"),
    ("initech", "+15551230006"),
    ("acme", "+15554290001"),  # 429 once, with Retry-After: delivered on the next attempt
    ("globex", "+15555030001"),  # 503 once, with Retry-After: delivered on the next attempt
    ("acme", "+15550001111"),  # 400 invalid number: dead at once, user_error
    ("globex", "+15550002222"),  # 400 invalid number
    ("initech", "+15555000001"),  # 500 every time: retried, then dead as system_error
)


def enqueue_messages(
    app: jobq.App, recipients: Iterable[tuple[str | None, str]], *, body: str = "Your code is 4242"
) -> list[jobq.JobId]:
    """Queue one ``messaging.send`` job per (tenant, recipient); the message id is also the job's key."""
    ids = []
    for tenant, to in recipients:
        message_id = f"msg-{secrets.token_hex(6)}"
        kwargs = {"message_id": message_id, "to": to, "body": body}
        ids.append(app.enqueue(SEND_MESSAGE, kwargs, tenant=tenant, key=message_id))
    return ids


def main(argv: Sequence[str] | None = None) -> None:
    """Queue the messages and print their job ids."""
    parser = argparse.ArgumentParser(prog="python -m examples.messaging.send", description="Queue messages.")
    parser.add_argument("recipients", nargs="*", help="phone numbers (default: the sample batch)")
    parser.add_argument("--tenant", help="tenant of the given recipients")
    parser.add_argument("--body", default="Your code is 4242")
    parser.add_argument("--url", help="database URL (default: JOBQ_URL, else sqlite:///./jobq.db)")
    options = parser.parse_args(argv)
    batch = [(options.tenant, to) for to in options.recipients] if options.recipients else list(SAMPLE)
    # A bare app: enqueueing by task name needs no provider, and jobs go wherever JOBQ_URL says.
    with jobq.App(options.url) as app:
        for job_id in enqueue_messages(app, batch, body=options.body):
            print(job_id)


if __name__ == "__main__":
    main()
