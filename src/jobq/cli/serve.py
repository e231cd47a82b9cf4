"""``jobq serve``: the HTTP API, ``/metrics`` and ``/health`` under uvicorn."""

from __future__ import annotations

import ipaddress
import secrets

import click

from jobq.cli.context import Context, fail
from jobq.cli.options import option

LOOPBACK_NAMES = ("localhost",)


@click.command()
@option("--host", default="127.0.0.1", show_default=True,
        help="Address to listen on; any but loopback needs a token.")  # fmt: skip
@option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@option("--token", envvar="JOBQ_TOKEN", metavar="TOKEN",
        help="Bearer token that may do everything (prefer the environment: a flag shows in `ps`).")  # fmt: skip
@option("--read-only-token", envvar="JOBQ_READ_ONLY_TOKEN", metavar="TOKEN",
        help="Bearer token that may only read (GET).")  # fmt: skip
@option("--rate-limit", type=click.FloatRange(0), default=20.0, show_default=True,
        help="Requests per second per client address (0: no limit, e.g. behind a gateway that limits).")  # fmt: skip
@option("--rate-burst", type=click.IntRange(1), default=100, show_default=True,
        help="Requests a client may send at once before the rate applies.")  # fmt: skip
@option("--max-body-size", type=click.IntRange(1), default=1024 * 1024, show_default=True, metavar="BYTES",
        help="Largest request body accepted (413 beyond).")  # fmt: skip
@option("--redact", "redact_keys", multiple=True, metavar="PATTERN",
        help="Also hide payload fields whose name matches this regular expression (repeatable; adds to "
             "[tool.jobq.redact] keys).")  # fmt: skip
@option("--show-field", "shown_fields", multiple=True, metavar="NAME",
        help="Never hide this payload field, though its name matches a pattern (repeatable).")  # fmt: skip
@option("--forwarded-allow-ips", metavar="IPS",
        help="Proxies whose X-Forwarded-For is trusted (comma-separated; default: none, so rate limits "
             "apply to the connecting address).")  # fmt: skip
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, token: str | None, read_only_token: str | None,
          rate_limit: float, rate_burst: int, max_body_size: int, redact_keys: tuple[str, ...],
          shown_fields: tuple[str, ...], forwarded_allow_ips: str | None) -> None:  # fmt: skip
    """Serve the HTTP API, the dashboard (/dashboard), /metrics and /health (needs: pip install 'jobq[web]').

    Every request but /health needs Authorization: Bearer TOKEN. Without a token, the server listens
    on loopback only, with a token generated for this run and printed once. The API and the dashboard
    redact PII with the app's redactor and [tool.jobq.redact], whatever --no-redact says.
    """
    if not token and not read_only_token:
        if not is_loopback(host):
            fail(f"refusing to listen on {host} without a token: pass --token or set JOBQ_TOKEN", 2)
        token = secrets.token_urlsafe(24)
        click.echo(f"No --token given; this run's token is: {token}", err=True)
    try:
        import uvicorn

        from jobq.web import Limits, create_app
    except ImportError as exc:
        fail(f"jobq serve needs the web extra: pip install 'jobq[web]' ({exc.name} is missing)")
    context = ctx.find_object(Context) or Context()
    app = context.app()
    limits = Limits(rate=rate_limit or None, burst=rate_burst, max_body_bytes=max_body_size)
    # One redactor for the API's answers and the dashboard's pages. --no-redact is not asked: it is for a
    # terminal of one's own, not for everyone who holds a token.
    redactor = context.configured_redactor(app, keys=redact_keys, allow=shown_fields)
    asgi = create_app(
        app, token=token or None, read_only_token=read_only_token, limits=limits, redactor=redactor,
    )  # fmt: skip
    uvicorn.run(
        asgi, host=host, port=port, proxy_headers=bool(forwarded_allow_ips),
        forwarded_allow_ips=forwarded_allow_ips, server_header=False, log_level="info",
    )  # fmt: skip


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
