"""Commands on lifts and floors: ``unit add|assign``, ``lift add|list|grant|floors``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import opened_site
from facegate.domain.access import AccessRule
from facegate.domain.people import Role
from facegate.domain.site import Lift
from facegate.services import lift_floors, overview, people, places
from facegate.services.lift_floors import PersonFloors

unit_app = typer.Typer(help="Units (flats, offices) and their floors.", no_args_is_help=True)
lift_app = typer.Typer(help="Lifts and the floors people may reach.", no_args_is_help=True)

FloorOption = Annotated[list[int], typer.Option("--floor", help="A floor (repeatable).")]


def register(app: typer.Typer) -> None:
    """Add the unit and lift commands to ``app``."""
    app.add_typer(unit_app, name="unit")
    app.add_typer(lift_app, name="lift")


@unit_app.command("assign")
@handles_errors
def unit_assign(
    ctx: typer.Context,
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="The unit's id; left out: no unit.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Record the unit a person lives or works in (their home floor in its lifts)."""
    with opened_site(ctx) as (_, context):
        person = people.set_unit(context, person_id, unit)
    if as_json:
        emit_json({"person_id": person.id, "unit_id": person.unit_id})
        return
    typer.echo(person.unit_id or "-")


@unit_app.command("add")
@handles_errors
def unit_add(
    ctx: typer.Context,
    building: Annotated[str, typer.Option("--building", help="The building's id.")],
    label: Annotated[str, typer.Option("--label", help="The unit's label, e.g. '12B'.")],
    floor: Annotated[int, typer.Option("--floor", help="Its floor (0 the ground floor).")],
    as_json: JsonFlag = False,
) -> None:
    """Add a unit; its residents reach its floor in their building's lifts."""
    with opened_site(ctx) as (_, context):
        unit = lift_floors.add_unit(context, building, label, floor)
    if as_json:
        emit_json({"id": unit.id, "building_id": unit.building_id, "floor": unit.floor})
        return
    typer.echo(unit.id)


def _lift_json(lift: Lift) -> dict[str, Any]:
    return {
        "id": lift.id,
        "name": lift.name,
        "building_id": lift.building_id,
        "floors": list(lift.floors),
    }


@lift_app.command("add")
@handles_errors
def lift_add(
    ctx: typer.Context,
    building: Annotated[str, typer.Option("--building", help="The building's id.")],
    name: Annotated[str, typer.Option("--name", help="The lift's name.")],
    floors: FloorOption,
    as_json: JsonFlag = False,
) -> None:
    """Add a lift serving the given floors of a building."""
    with opened_site(ctx) as (_, context):
        lift = places.add_lift(context, building, name, floors)
    if as_json:
        emit_json(_lift_json(lift))
        return
    typer.echo(lift.id)


@lift_app.command("list")
@handles_errors
def lift_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the lifts."""
    with opened_site(ctx) as (_, context):
        lifts = overview.list_lifts(context)
    if as_json:
        emit_json({"lifts": [_lift_json(lift) for lift in lifts]})
        return
    for lift in lifts:
        typer.echo(f"{lift.id}  {lift.name}  {','.join(str(f) for f in lift.floors)}")


def rule_json(rule: AccessRule) -> dict[str, Any]:
    """An extra-floors rule as the CLI and the API print it."""
    return {
        "id": rule.id,
        "person_id": rule.person_id,
        "role": rule.role.value if rule.role is not None else None,
        "floors": sorted(rule.floors),
        "building_id": rule.building_id,
        "time_zone": rule.schedule.time_zone,
    }


@lift_app.command("grant")
@handles_errors
def lift_grant(
    ctx: typer.Context,
    floors: FloorOption,
    person: Annotated[str | None, typer.Option("--person", help="A person's id.")] = None,
    role: Annotated[Role | None, typer.Option("--role", help="Everyone with a role.")] = None,
    building: Annotated[
        str | None, typer.Option("--building", help="Only in this building's lifts.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Give a person or a role extra floors, at all hours (on top of a unit's floor)."""
    with opened_site(ctx) as (_, context):
        rule = lift_floors.grant_floors(
            context, floors, person_id=person, role=role, building_id=building
        )
    if as_json:
        emit_json(rule_json(rule))
        return
    typer.echo(rule.id)


def floors_json(found: PersonFloors) -> dict[str, Any]:
    """A person's floors as the CLI and the API print them."""
    return {
        "person_id": found.person.id,
        "unit_id": found.unit.id if found.unit is not None else None,
        "home_floor": found.home_floor,
        "extra": [rule_json(rule) for rule in found.rules],
        "lifts": [
            {
                "lift_id": reach.lift.id,
                "name": reach.lift.name,
                "building_id": reach.lift.building_id,
                "reason": reach.reason.value,
                "floors": list(reach.floors),
            }
            for reach in found.lifts
        ],
    }


@lift_app.command("floors")
@handles_errors
def lift_floors_of(
    ctx: typer.Context,
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a person's home floor, extra floors and what each lift enables for them now."""
    with opened_site(ctx) as (_, context):
        found = lift_floors.floors_of(context, person_id)
    if as_json:
        emit_json(floors_json(found))
        return
    typer.echo(f"home floor: {found.home_floor if found.home_floor is not None else '-'}")
    for reach in found.lifts:
        floors = ",".join(str(f) for f in reach.floors) or reach.reason.value
        typer.echo(f"{reach.lift.name}: {floors}")
