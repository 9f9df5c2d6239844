"""``facegate install-service`` (systemd units) and ``facegate doctor`` (checks)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, emit_json, handles_errors


def register(app: typer.Typer) -> None:
    """Add ``install-service`` and ``doctor`` to ``app``."""
    app.command(name="install-service")(install_service)
    app.command(name="doctor")(doctor)


def _has_command(ctx: typer.Context, name: str) -> bool:
    """Whether this facegate has the top-level command or group ``name``."""
    group = ctx.find_root().command
    commands = getattr(group, "commands", {})
    return name in commands


def _default_executable() -> Path:
    found = shutil.which("facegate")
    return Path(found).resolve() if found else Path(sys.argv[0]).resolve()


@handles_errors
def install_service(
    ctx: typer.Context,
    root: Annotated[
        Path, typer.Option(help="Write under this root ('/' for this machine; run as root).")
    ],
    gate: Annotated[
        list[str] | None,
        typer.Option("--gate", help="A gate to run here (repeat for each); its settings file."),
    ] = None,
    user: Annotated[str, typer.Option(help="The dedicated system user.")] = "facegate",
    executable: Annotated[
        Path | None, typer.Option("--bin", help="The facegate command the units run.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write systemd units for the server, each gate, hub, uplink and the purge timer.

    Hub and uplink only when this facegate has those commands. The units run as a
    dedicated user with StateDirectory and hardening; settings files are kept if there.
    """
    from facegate.deploy.units import InstallPlan, install, unit_files

    plan = InstallPlan(
        executable or _default_executable(),
        user,
        tuple(gate or ()),
        hub=_has_command(ctx, "hub"),
        uplink=_has_command(ctx, "uplink"),
    )
    done = install(root, plan)
    units = sorted(unit_files(plan))
    enable = ["facegate-serve.service", "facegate-purge.timer"]
    enable += [f"facegate-gate@{name}.service" for name in plan.gates]
    enable += [u for u in units if u in ("facegate-hub.service", "facegate-uplink.service")]
    next_steps = [
        "systemd-sysusers",
        "systemctl daemon-reload",
        f"edit /etc/facegate/*.env, then: systemctl enable --now {' '.join(enable)}",
    ]
    if as_json:
        emit_json({**done, "units": units, "enable": enable, "next": next_steps})
        return
    for path in done["written"]:
        typer.echo(f"wrote {root / path}")
    for path in done["kept"]:
        typer.echo(f"kept {root / path} (already there)")
    typer.echo("then: " + "; ".join(next_steps))


@handles_errors
def doctor(
    ctx: typer.Context,
    server: Annotated[
        str | None, typer.Option(help="The running server's URL (default: from the settings).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Check a running installation: database, site key, models, gates, clock, TLS.

    Prints each finding and what to fix; exits 0 either way (the findings are the
    result: scripts read ``ok`` in the JSON).
    """
    from facegate.deploy.doctor import Probes, diagnose, report

    findings = diagnose(settings_from(ctx), Probes(server_url=server))
    if as_json:
        emit_json(report(findings))
        return
    for finding in findings:
        line = f"{finding.status.upper():4}  {finding.check}: {finding.detail}"
        typer.echo(line + (f"\n      fix: {finding.fix}" if finding.fix else ""))
