"""``jobq check``: exit 1 when an alert threshold is crossed, for cron and monitoring."""

from __future__ import annotations

import sys

import click

from jobq.cli.context import Context
from jobq.cli.options import json_option, option
from jobq.cli.output import echo_json
from jobq.stats import Thresholds

DEFAULTS = Thresholds()


@click.command()
@option(
    "--last-24h",
    type=click.FloatRange(min=0),
    default=DEFAULTS.last_24h,
    show_default=True,
    help="Alert when more dead letters than this arrived in the last 24 hours.",
)
@option(
    "--avg-retries",
    type=click.FloatRange(min=0),
    default=DEFAULTS.avg_retries,
    show_default=True,
    help="Alert when dead letters average more attempts than this.",
)
@option(
    "--pending-recovery",
    type=click.FloatRange(min=0),
    default=DEFAULTS.pending_recovery,
    show_default=True,
    help="Alert when more dead letters than this wait in the recovery queue.",
)
@option(
    "--new-fingerprint-window",
    type=click.FloatRange(min=0),
    default=DEFAULTS.new_fingerprint_window,
    show_default=True,
    metavar="SECONDS",
    help="Alert on failures first seen this recently (0: never).",
)
@json_option
@click.pass_obj
def check(
    ctx: Context, last_24h: float, avg_retries: float, pending_recovery: float, new_fingerprint_window: float
) -> None:
    """Check the alert thresholds: exit 1 when one is crossed, else 0."""  # fmt: skip
    thresholds = Thresholds(
        last_24h=last_24h, avg_retries=avg_retries, pending_recovery=pending_recovery,
        new_fingerprint_window=new_fingerprint_window,
    )  # fmt: skip
    alerts = ctx.app().alerts(thresholds)
    if ctx.as_json:
        found = [{"name": a.name, "value": a.value, "threshold": a.threshold, "detail": a.detail} for a in alerts]
        limits = {"last_24h": last_24h, "avg_retries": avg_retries, "pending_recovery": pending_recovery,
                  "new_fingerprint_window": new_fingerprint_window}  # fmt: skip
        echo_json({"healthy": not alerts, "alerts": found, "thresholds": limits})
    elif alerts:
        for alert in alerts:
            click.echo(f"ALERT: {alert}")
    else:
        click.echo(
            f"OK: no threshold crossed (last_24h ≤ {last_24h:g}, avg_retries ≤ {avg_retries:g}, "
            f"pending_recovery ≤ {pending_recovery:g})"
        )
    if alerts:
        sys.exit(1)
