"""``facegate serve`` (uvicorn, optional HTTPS) and ``facegate admin create``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from facegate.cli.context import settings_from
from facegate.cli.gate import liveness_notice
from facegate.cli.output import JsonFlag, emit_json, handles_errors, stderr
from facegate.cli.uplink import start_if_joined
from facegate.domain.accounts import AccountRole
from facegate.domain.errors import BadInputError

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.services.audit_anchor import PeriodicCheckpoints

admin_app = typer.Typer(help="Accounts of the web console.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the server commands to ``app``."""
    app.command(name="serve")(serve)
    app.add_typer(admin_app, name="admin")


@handles_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    tls_cert: Annotated[Path | None, typer.Option(help="PEM certificate for HTTPS.")] = None,
    tls_key: Annotated[Path | None, typer.Option(help="PEM private key for HTTPS.")] = None,
    self_signed: Annotated[
        bool, typer.Option(help="Make (once) and use a self-signed certificate for the LAN.")
    ] = False,
) -> None:
    """Run the web server: the REST API under /api/v1 (and its OpenAPI document)."""
    import uvicorn

    from facegate.bootstrap_server import build_app
    from facegate.http.serving import uvicorn_options
    from facegate.http.tls import self_signed as make_certificate

    settings = settings_from(ctx)
    server = settings.server
    host, port = host or server.host, port or server.port
    cert, key = tls_cert or server.tls_cert, tls_key or server.tls_key
    if (cert is None) != (key is None):
        raise BadInputError("give both --tls-cert and --tls-key, or neither")
    if self_signed and cert is None:
        cert, key = make_certificate(settings.data_dir, sorted({"localhost", host}))
    app = build_app(settings)
    checkpoints = _audit_checkpoints(settings)
    uplink = start_if_joined(settings)  # the city hub, when this site has joined one
    scheme = "https" if cert else "http"
    typer.echo(f"facegate serving on {scheme}://{host}:{port}/ (API at /api/v1)", err=True)
    if (notice := liveness_notice(settings.gate.liveness)) is not None:
        stderr.print(f"kiosk frames: {notice}", highlight=False)
    sys.setswitchinterval(server.switch_interval_ms / 1000.0)
    try:
        uvicorn.run(
            app,
            host=host,
            port=port,
            ssl_certfile=str(cert) if cert else None,
            ssl_keyfile=str(key) if key else None,
            **uvicorn_options(server),
        )
    finally:
        if checkpoints is not None:
            checkpoints.stop()
        if uplink is not None:
            uplink.set()


def _audit_checkpoints(settings: Settings) -> PeriodicCheckpoints | None:
    """Start signing audit checkpoints every ``server.audit_checkpoint_every_s`` seconds."""
    from facegate.bootstrap import SystemClock, build_store
    from facegate.services.audit_anchor import PeriodicCheckpoints
    from facegate.services.context import ServiceContext
    from facegate.store.audit_anchors import AnchorFile

    every_s = settings.server.audit_checkpoint_every_s
    if every_s <= 0:
        return None
    context = ServiceContext(build_store(settings), SystemClock(), "server:audit-checkpoint")

    def report(error: Exception) -> None:
        stderr.print(f"audit checkpoint failed (tried again in {every_s:g} s): {error}")

    folder = settings.audit_anchor_folder
    checkpoints = PeriodicCheckpoints(context, AnchorFile(folder), every_s, report)
    checkpoints.start()
    typer.echo(
        f"audit checkpoints every {every_s:g} s into {folder / 'audit-anchors.jsonl'}", err=True
    )
    return checkpoints


@admin_app.command("create")
@handles_errors
def admin_create(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(prompt=True, help="Login name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="FACEGATE_ADMIN_PASSWORD",
            help="Password (prompted; or FACEGATE_ADMIN_PASSWORD).",
        ),
    ],
    role: Annotated[AccountRole, typer.Option(help="Role of the account.")] = AccountRole.ADMIN,
    as_json: JsonFlag = False,
) -> None:
    """Create a console account (the first administrator, or another)."""
    from facegate.bootstrap import SystemClock, build_store
    from facegate.services.accounts import create_user
    from facegate.services.context import ServiceContext
    from facegate.store.passwords import Argon2Hasher

    settings = settings_from(ctx)
    store = build_store(settings)
    try:
        context = ServiceContext(store=store, clock=SystemClock(), actor="cli:admin")
        user = create_user(context, Argon2Hasher(), username, password, role)
    finally:
        store.close()
    if as_json:
        emit_json({"id": user.id, "username": user.username, "role": user.role.value})
    else:
        typer.echo(user.id)
