"""``facegate hub``: the city hub (its own composition root, PostgreSQL only)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from facegate.cli.context import GlobalOptions
from facegate.cli.output import JsonFlag, emit_json, handles_errors, stderr
from facegate.domain.errors import BadInputError

if TYPE_CHECKING:
    from facegate.hub.bootstrap import Hub
    from facegate.hub.settings import HubSettings

hub_app = typer.Typer(help="The city hub: sites, events, notices.", no_args_is_help=True)
site_app = typer.Typer(help="Sites joined to this hub.", no_args_is_help=True)
account_app = typer.Typer(help="Hub console and API accounts.", no_args_is_help=True)
notice_app = typer.Typer(help="Signed notices to sites.", no_args_is_help=True)
hub_app.add_typer(site_app, name="site")
hub_app.add_typer(account_app, name="account")
hub_app.add_typer(notice_app, name="notice")


def register(app: typer.Typer) -> None:
    """Add ``hub`` to ``app``."""
    app.add_typer(hub_app, name="hub")


@hub_app.callback()
def hub_options(
    ctx: typer.Context,
    broker_host: Annotated[
        str, typer.Option(envvar="FACEGATE_HUB_BROKER_HOST", help="MQTT broker host.")
    ] = "127.0.0.1",
    broker_port: Annotated[
        int, typer.Option(envvar="FACEGATE_HUB_BROKER_PORT", help="MQTT broker port.")
    ] = 1883,
    site_broker_host: Annotated[
        str | None,
        typer.Option(
            envvar="FACEGATE_HUB_SITE_BROKER_HOST",
            help="Broker host sites are told at join (default: --broker-host).",
        ),
    ] = None,
    site_broker_port: Annotated[
        int | None,
        typer.Option(
            envvar="FACEGATE_HUB_SITE_BROKER_PORT",
            help="Port of the sites' broker listener (default: --broker-port).",
        ),
    ] = None,
    broker_passwd_file: Annotated[
        Path | None,
        typer.Option(envvar="FACEGATE_HUB_BROKER_PASSWD_FILE", help="Mosquitto password file."),
    ] = None,
    broker_pid_file: Annotated[
        Path | None, typer.Option(envvar="FACEGATE_HUB_BROKER_PID_FILE", help="Its pid file.")
    ] = None,
    retention_days: Annotated[
        int, typer.Option(envvar="FACEGATE_HUB_RETENTION_DAYS", min=1, help="Days events are kept.")
    ] = 90,
) -> None:
    """The city hub (PostgreSQL only: give --db-url or FACEGATE_DB_URL)."""
    from facegate.config import Settings
    from facegate.hub.settings import HubSettings

    options = ctx.find_root().obj
    given = options if isinstance(options, GlobalOptions) else GlobalOptions()
    data_dir = given.data_dir or Settings().data_dir
    user, password = (
        os.environ.get("FACEGATE_HUB_BROKER_USER"),
        os.environ.get("FACEGATE_HUB_BROKER_PASSWORD"),
    )
    ctx.obj = HubSettings(
        db_url=given.db_url or "",
        data_dir=data_dir / "hub",
        broker_host=broker_host,
        broker_port=broker_port,
        broker_passwd_file=broker_passwd_file,
        broker_pid_file=broker_pid_file,
        retention_days=retention_days,
        broker_credentials=(user, password) if user and password else None,
        site_broker_host=site_broker_host,
        site_broker_port=site_broker_port,
    )


def _hub(ctx: typer.Context) -> Hub:
    from facegate.hub.bootstrap import build_hub

    settings: HubSettings = ctx.obj
    if not settings.db_url:
        raise BadInputError("the hub needs PostgreSQL: give --db-url or FACEGATE_DB_URL")
    return build_hub(settings)


@site_app.command("add")
@handles_errors
def site_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The complex's name.")],
    district: Annotated[str, typer.Option(help="Its district.")],
    operator: Annotated[str, typer.Option(help="The property company.")] = "",
    contact: Annotated[str, typer.Option(help="The operator's desk (not a person).")] = "",
    free_passage: Annotated[
        bool, typer.Option(help="The site takes free-passage notices (opens its doors).")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Create a site; prints its one-time join token (for 'facegate uplink join')."""
    from facegate.hub.bootstrap import utc_now

    hub = _hub(ctx)
    fields = {"name": name, "district": district, "operator": operator, "contact": contact}
    site_id, token = hub.store.add_site(fields, utc_now(), free_passage)
    if as_json:
        emit_json({"site_id": site_id, "join_token": token})
    else:
        typer.echo(f"site {site_id}; join token (shown once): {token}")


@site_app.command("list")
@handles_errors
def site_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the sites with their last health."""
    rows = _hub(ctx).store.sites()
    if as_json:
        emit_json({"sites": [{k: _plain(v) for k, v in r.items()} for r in rows]})
        return
    for row in rows:
        state = "revoked" if row["revoked_at"] else ("joined" if row["joined_at"] else "invited")
        typer.echo(f"{row['id']}  {row['district']:<16} {row['name']:<30} {state}")


@site_app.command("revoke")
@handles_errors
def site_revoke(ctx: typer.Context, site_id: str, as_json: JsonFlag = False) -> None:
    """Revoke a site: its broker account goes and its messages are refused from now on."""
    from facegate.hub.bootstrap import utc_now

    hub = _hub(ctx)
    hub.store.revoke(site_id, utc_now())
    if hub.accounts is not None:
        hub.accounts.remove(site_id)
    if as_json:
        emit_json({"site_id": site_id, "revoked": True})
    else:
        typer.echo(f"site {site_id} revoked")


@account_app.command("add")
@handles_errors
def account_add(
    ctx: typer.Context,
    username: str,
    role: Annotated[str, typer.Option(help="city_operator, district_viewer or auditor.")],
    district: Annotated[
        list[str] | None, typer.Option(help="A district viewer's district.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a hub account; prints its API token (shown once)."""
    from facegate.hub.access import HubRole
    from facegate.hub.bootstrap import utc_now

    try:
        chosen = HubRole(role)
    except ValueError as err:
        raise BadInputError(f"unknown role {role!r}") from err
    token = _hub(ctx).store.add_account(username, chosen, district or [], utc_now())
    if as_json:
        emit_json({"username": username, "role": role, "token": token})
    else:
        typer.echo(f"account {username} ({role}); API token (shown once): {token}")


@notice_app.command("send")
@handles_errors
def notice_send(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option(help="lockdown, free_passage, normal or announcement.")],
    until: Annotated[datetime, typer.Option(help="End time, ISO 8601 with a UTC offset.")],
    site: Annotated[list[str] | None, typer.Option(help="A site id (repeatable).")] = None,
    district: Annotated[list[str] | None, typer.Option(help="A district (repeatable).")] = None,
    text: Annotated[str, typer.Option(help="The announcement's text.")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Sign and send a notice to sites and/or whole districts."""
    from facegate.hub import notices
    from facegate.hub.bootstrap import utc_now
    from facegate.hub.mqtt_link import HubPublisher

    if kind not in ("lockdown", "free_passage", "normal", "announcement"):
        raise BadInputError(f"unknown notice kind {kind!r}")
    if until.tzinfo is None:
        raise BadInputError("give --until with a UTC offset, e.g. 2026-11-28T18:00:00+00:00")
    hub = _hub(ctx)
    settings = hub.settings
    link = HubPublisher(
        settings.broker_host, settings.broker_port, "hub-notices", settings.broker_credentials
    )
    try:
        issued = notices.issue(
            hub.store,
            hub.key,
            link.publish,
            (kind, until, text),  # type: ignore[arg-type]
            (site or [], district or []),
            utc_now(),
            f"cli:{os.environ.get('USER', '?')}",
        )
    finally:
        link.close()
    result = {"sent": [n.seq for n in issued.sent], "skipped": issued.skipped}
    if as_json:
        emit_json(result)
    else:
        typer.echo(f"sent {len(issued.sent)} notice(s); skipped {issued.skipped or 'none'}")


@hub_app.command("ingest")
@handles_errors
def ingest(
    ctx: typer.Context,
    workers: Annotated[int, typer.Option(min=1, help="Ingest workers in this process.")] = 2,
    prefix: Annotated[str, typer.Option(help="Client id prefix (fixed across restarts).")] = (
        "hub-ingest"
    ),
) -> None:
    """Run ingest workers only (scale out: more processes on more machines)."""
    import time

    from facegate.hub.bootstrap import build_workers

    running = build_workers(_hub(ctx), workers, prefix)
    for worker in running:
        worker.start()
    stderr.print(f"hub ingest: {workers} worker(s) as {prefix}-1..{workers}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        for worker in running:
            worker.stop()


@hub_app.command("serve")
@handles_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8700,
    workers: Annotated[int, typer.Option(min=0, help="Ingest workers in this process.")] = 2,
) -> None:
    """Run the hub: its web console and API, its ingest workers and its retention job."""
    import functools

    import uvicorn

    from facegate.hub.bootstrap import build_workers
    from facegate.hub.mqtt_link import HubPublisher
    from facegate.hub.retention import RetentionJob
    from facegate.hub.web import create_hub_app

    hub = _hub(ctx)
    settings = hub.settings
    running = build_workers(hub, workers)
    for worker in running:
        worker.start()
    retention = RetentionJob(hub.store, settings.retention_days).start()
    publisher = functools.cache(
        lambda: HubPublisher(
            settings.broker_host, settings.broker_port, "hub-notices", settings.broker_credentials
        )
    )
    typer.echo(
        f"facegate hub serving on http://{host}:{port}/ ({workers} ingest workers)", err=True
    )
    try:
        uvicorn.run(create_hub_app(hub, publisher), host=host, port=port, log_level="warning")
    finally:
        retention.set()
        for worker in running:
            worker.stop()


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value
