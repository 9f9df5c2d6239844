"""``facegate zone set|list|reset`` and ``facegate door zone``: anti-passback zones.

See :mod:`facegate.domain.passback` and docs/hardware.md "Anti-passback". ``--json``
prints a zone as ``name``, ``passback``, ``reset_at``, ``cleared_at``, ``doors`` {door
id: ``in``/``out``}, ``inside`` (people on record inside since the last reset).
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import opened_site
from facegate.domain.errors import ValidationError
from facegate.domain.passback import Direction, PassbackMode
from facegate.services import zones

zone_app = typer.Typer(help="Anti-passback zones (in before out).", no_args_is_help=True)


def register(app: typer.Typer, door_app: typer.Typer) -> None:
    """Add ``zone`` to ``app`` and ``zone`` to the door commands."""
    app.add_typer(zone_app, name="zone")
    door_app.command("zone")(door_zone)


def _reset_time(text: str | None) -> time | None:
    if text is None:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError as err:
        raise ValidationError(f"--reset-at {text!r}: use HH:MM (site time)") from err


@zone_app.command("set")
@handles_errors
def zone_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The zone's name.")],
    passback: Annotated[
        PassbackMode,
        typer.Option("--passback", help="off; soft: grant with an alarm; hard: refuse."),
    ] = PassbackMode.HARD,
    reset_at: Annotated[
        str | None,
        typer.Option("--reset-at", help="Daily reset, HH:MM site time (everyone counts out)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a zone or change its anti-passback mode and daily reset (audited)."""
    with opened_site(ctx) as (_, context):
        zone = zones.set_zone(context, name, passback, _reset_time(reset_at))
    if as_json:
        emit_json({"name": zone.name, "passback": zone.mode.value, "reset_at": reset_at})
        return
    typer.echo(f"zone {zone.name}: anti-passback {zone.mode.value}")


@zone_app.command("list")
@handles_errors
def zone_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the zones, their doors and how many people count as inside."""
    with opened_site(ctx) as (_, context):
        views = zones.list_zones(context)
    if as_json:
        emit_json({"zones": [v.to_json() for v in views]})
        return
    for view in views:
        doors = ", ".join(f"{d} ({x.value})" for d, x in sorted(view.doors.items())) or "no doors"
        typer.echo(f"{view.zone.name}  {view.zone.mode.value}  {view.inside} inside  {doors}")


@zone_app.command("reset")
@handles_errors
def zone_reset(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The zone's name.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).")],
    as_json: JsonFlag = False,
) -> None:
    """Everyone counts as outside the zone from now (audited)."""
    with opened_site(ctx) as (_, context):
        forgotten = zones.reset_zone(context, name, reason)
    if as_json:
        emit_json({"name": name, "forgotten": forgotten})
        return
    typer.echo(f"zone {name} reset ({forgotten} presence records forgotten)")


@handles_errors
def door_zone(
    ctx: typer.Context,
    door_id: Annotated[str, typer.Argument(help="The door's id.")],
    zone: Annotated[
        str | None, typer.Option("--zone", help="The zone; leave out to take the door out.")
    ] = None,
    direction: Annotated[
        Direction, typer.Option("--direction", help="in: into the zone; out: out of it.")
    ] = Direction.IN,
    as_json: JsonFlag = False,
) -> None:
    """Put a door in an anti-passback zone with its direction (audited)."""
    with opened_site(ctx) as (_, context):
        zones.place_door(context, door_id, zone, direction)
    if as_json:
        emit_json({"id": door_id, "zone": zone, "direction": direction.value if zone else None})
        return
    typer.echo(f"door {door_id}: " + (f"zone {zone} ({direction.value})" if zone else "no zone"))
