"""``facegate uplink join URL TOKEN`` and ``facegate uplink run``: the site's link to a hub."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, emit_json, handles_errors, stderr

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.uplink.runner import Uplink

UPLINK_HEALTH_EVERY_S = 30.0
"""Seconds between health messages of the uplink inside ``facegate serve``."""

uplink_app = typer.Typer(help="The site's link to a city hub.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``uplink`` to ``app``."""
    app.add_typer(uplink_app, name="uplink")


@uplink_app.command("join")
@handles_errors
def join_hub(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The hub's URL, e.g. https://hub.example:8443")],
    token: Annotated[str, typer.Argument(help="The one-time token 'hub site add' printed.")],
    accept_free_passage: Annotated[
        bool, typer.Option(help="Take free-passage notices from the hub (opens doors).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Join a hub: make the site's key pair, pin the hub's key, store the broker."""
    from facegate.uplink.join import join
    from facegate.uplink.state import UplinkFiles

    settings = settings_from(ctx)
    config = join(UplinkFiles(settings.data_dir / "uplink"), url, token, accept_free_passage)
    result = {"site_id": config.site_id, "broker": f"{config.broker_host}:{config.broker_port}"}
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"joined {url} as site {config.site_id}")


@uplink_app.command("run")
@handles_errors
def run_uplink(
    ctx: typer.Context,
    health_every_s: Annotated[float, typer.Option(help="Seconds between health messages.")] = 30.0,
) -> None:
    """Send the site's events and health to its hub; apply the hub's notices (until Ctrl-C)."""
    from facegate.uplink.health import site_health
    from facegate.uplink.summary import summaries_of

    settings = settings_from(ctx)
    uplink = build_uplink(settings)
    stderr.print(f"uplink: site {uplink.config.site_id} -> {uplink.config.broker_host}")
    try:
        uplink.run(
            site_health(settings, uplink.config.site_id),
            health_every_s,
            summaries_of(uplink.site_db, uplink.config.site_id),
        )
    except KeyboardInterrupt:
        stderr.print("uplink: stopped")


def build_uplink(settings: Settings) -> Uplink:
    """The uplink of the site ``settings`` describe, with its notice receiver."""
    from facegate.bootstrap import SystemClock, build_store, service_context
    from facegate.city.keys import load_private, public_from_text
    from facegate.uplink.notices import NoticeReceiver, site_audit
    from facegate.uplink.runner import Uplink
    from facegate.uplink.site_mode_port import Announcements, ServiceSiteMode
    from facegate.uplink.state import UplinkFiles

    files = UplinkFiles(settings.data_dir / "uplink")
    config = files.config()
    store = build_store(settings)
    context = service_context(settings, store)
    context = type(context)(store=context.store, clock=context.clock, actor="hub")

    receiver = NoticeReceiver(
        files,
        config.site_id,
        public_from_text(config.hub_public_key),
        ServiceSiteMode(context, Announcements(files.announcement_path)),
        site_audit(context),
        SystemClock().now,
        config.accept_free_passage,
    )
    return Uplink(files, config, load_private(files.key_path), store.engine, receiver.receive)


def start_if_joined(settings: Settings) -> threading.Event | None:
    """Run the uplink in a daemon thread when this site has joined a hub (for ``serve``).

    Returns the event that stops it (``None``: not joined, nothing started).
    """
    from facegate.uplink.health import site_health
    from facegate.uplink.state import UplinkFiles
    from facegate.uplink.summary import summaries_of

    if not UplinkFiles(settings.data_dir / "uplink").joined():
        return None
    uplink = build_uplink(settings)
    stop = threading.Event()
    health = site_health(settings, uplink.config.site_id)
    summaries = summaries_of(uplink.site_db, uplink.config.site_id)
    thread = threading.Thread(
        target=uplink.run,
        args=(health, UPLINK_HEALTH_EVERY_S, summaries, stop.is_set),
        name="uplink",
        daemon=True,
    )
    thread.start()
    stderr.print(f"uplink: site {uplink.config.site_id} -> {uplink.config.broker_host}")
    return stop
