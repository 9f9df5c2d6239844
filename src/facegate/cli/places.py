"""Commands on the site's layout and access rules: building, door, rule."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import opened_site
from facegate.domain.access import TimeWindow
from facegate.domain.errors import ValidationError
from facegate.domain.people import Role
from facegate.domain.site import CredentialKind, CredentialMode, Door, DoorKind, DoorLiveness
from facegate.services import places

building_app = typer.Typer(help="Buildings of the site.", no_args_is_help=True)
door_app = typer.Typer(help="Doors and what they accept.", no_args_is_help=True)
rule_app = typer.Typer(help="Access rules: who, where, when.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the layout commands to ``app``."""
    app.add_typer(building_app, name="building")
    app.add_typer(door_app, name="door")
    app.add_typer(rule_app, name="rule")


@building_app.command("add")
@handles_errors
def building_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The building's name.")],
    as_json: JsonFlag = False,
) -> None:
    """Add a building; prints its id."""
    with opened_site(ctx) as (_, context):
        building = places.add_building(context, name)
    if as_json:
        emit_json({"id": building.id, "name": building.name})
        return
    typer.echo(building.id)


def _kinds(text: str) -> frozenset[CredentialKind]:
    try:
        return frozenset(CredentialKind(k.strip()) for k in text.split(",") if k.strip())
    except ValueError as err:
        known = ", ".join(k.value for k in CredentialKind)
        raise ValidationError(f"--accepts {text!r}: use a comma-separated list of {known}") from err


def _door_json(door: Door) -> dict[str, Any]:
    return {
        "id": door.id,
        "name": door.name,
        "kind": door.kind.value,
        "mode": door.mode.value,
        "accepts": sorted(k.value for k in door.accepted),
        "building_id": door.building_id,
        "liveness": door.liveness.value,
    }


LivenessOption = Annotated[
    DoorLiveness,
    typer.Option(
        "--liveness",
        help="The live-face check: default (prompts at a kiosk, the gate's passive check "
        "elsewhere), passive, or challenge (prompts).",
    ),
]


@door_app.command("add")
@handles_errors
def door_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The door's name.")],
    accepts: Annotated[
        str, typer.Option("--accepts", help="Credential kinds, e.g. 'face,card,qr'.")
    ],
    kind: Annotated[DoorKind, typer.Option("--kind", help="Where it sits.")] = DoorKind.ENTRANCE,
    mode: Annotated[
        CredentialMode, typer.Option("--mode", help="Any one credential, or all of them.")
    ] = CredentialMode.ANY_OF,
    building: Annotated[str | None, typer.Option("--building", help="Building id.")] = None,
    liveness: LivenessOption = DoorLiveness.DEFAULT,
    as_json: JsonFlag = False,
) -> None:
    """Add a door; a door that accepts faces must also accept a card, PIN or QR pass."""
    with opened_site(ctx) as (_, context):
        door = places.add_door(context, name, kind, mode, _kinds(accepts), building, liveness)
    if as_json:
        emit_json(_door_json(door))
        return
    typer.echo(door.id)


@door_app.command("liveness")
@handles_errors
def door_liveness(
    ctx: typer.Context,
    door_id: Annotated[str, typer.Argument(help="The door's id.")],
    liveness: Annotated[
        DoorLiveness,
        typer.Argument(help="default, passive or challenge (see facegate door add --help)."),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Set how a door checks that a face is live (audited; reaches the door at once)."""
    with opened_site(ctx) as (_, context):
        door = places.set_door_liveness(context, door_id, liveness)
    if as_json:
        emit_json(_door_json(door))
        return
    typer.echo(f"{door.id}  {door.liveness.value}")


@door_app.command("list")
@handles_errors
def door_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the doors."""
    with opened_site(ctx) as (_, context):
        doors = places.list_doors(context)
    if as_json:
        emit_json({"doors": [_door_json(d) for d in doors]})
        return
    for door in doors:
        typer.echo(f"{door.id}  {door.name}  {','.join(sorted(door.accepted))}")


def _window(weekdays: str, start: str, end: str) -> TimeWindow:
    try:
        days = frozenset(int(d) for d in weekdays.split(",") if d.strip())
        return TimeWindow(days, time.fromisoformat(start), time.fromisoformat(end))
    except ValueError as err:
        raise ValidationError(f"schedule {weekdays} {start}-{end}: {err}") from err


@rule_app.command("add")
@handles_errors
def rule_add(
    ctx: typer.Context,
    door: Annotated[list[str], typer.Option("--door", help="A door id (repeatable).")],
    person: Annotated[str | None, typer.Option("--person", help="A person's id.")] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Everyone with a role.")] = None,
    weekdays: Annotated[str, typer.Option(help="Days, 0 Monday: '0,1,2,3,4'.")] = "0,1,2,3,4,5,6",
    start: Annotated[str, typer.Option("--from", help="Local opening, HH:MM.")] = "00:00",
    end: Annotated[str, typer.Option("--to", help="Local closing, HH:MM.")] = "23:59",
    as_json: JsonFlag = False,
) -> None:
    """Let a person or a role through doors on a weekly schedule in the site's time zone."""
    window = _window(weekdays, start, end)
    with opened_site(ctx) as (_, context):
        rule = places.add_access_rule(
            context, (window,), person_id=person, role=role, door_ids=door
        )
    if as_json:
        time_zone = rule.schedule.time_zone
        emit_json({"id": rule.id, "door_ids": sorted(rule.door_ids), "time_zone": time_zone})
        return
    typer.echo(rule.id)


@door_app.command("check")
@handles_errors
def door_check(
    ctx: typer.Context,
    door_id: Annotated[str, typer.Argument(help="The door's id.")],
    person: Annotated[str, typer.Option("--person", help="The person's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Say whether a person may pass a door now under the access rules (a result, exit 0)."""
    with opened_site(ctx) as (_, context):
        reason = places.may_pass(context, person, door_id)
    if as_json:
        emit_json({"door_id": door_id, "person_id": person, "reason": reason.value})
        return
    typer.echo(reason.value)
