"""Lifts and floors: lifts, units, extra floors per person or role, a person's floors."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from facegate.domain.access import AccessRule
from facegate.domain.people import Role
from facegate.domain.reasons import Reason
from facegate.domain.site import FLOORS, Lift, Unit
from facegate.http.deps import Deps, Reader, Staff, context_for
from facegate.services import lift_floors, overview, people, places
from facegate.services.lift_floors import PersonFloors

router = APIRouter(tags=["lifts"])

Floor = Field(ge=FLOORS[0], le=FLOORS[-1], description="A floor, 0 the ground floor.")


class LiftCreate(BaseModel):
    """A lift to add to a building."""

    building_id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=200)
    floors: list[int] = Field(min_length=1, max_length=1099)

    @model_validator(mode="after")
    def _floors_in_range(self) -> LiftCreate:
        if any(f not in FLOORS for f in self.floors):
            raise ValueError(f"floors are between {FLOORS[0]} and {FLOORS[-1]}")
        return self


class LiftPublic(BaseModel):
    """A lift and the floors it serves (ascending)."""

    id: str
    building_id: str
    name: str
    floors: list[int]

    @classmethod
    def of(cls, lift: Lift) -> LiftPublic:
        """From the domain record."""
        return cls(id=lift.id, building_id=lift.building_id, name=lift.name, floors=[*lift.floors])


class UnitCreate(BaseModel):
    """A unit (flat, office) on a floor of a building."""

    building_id: str = Field(min_length=1, max_length=36)
    label: str = Field(min_length=1, max_length=64)
    floor: int = Floor


class UnitPublic(BaseModel):
    """A unit: its residents reach its floor in their building's lifts."""

    id: str
    building_id: str
    label: str
    floor: int

    @classmethod
    def of(cls, unit: Unit) -> UnitPublic:
        """From the domain record."""
        return cls(id=unit.id, building_id=unit.building_id, label=unit.label, floor=unit.floor)


class FloorGrantCreate(BaseModel):
    """Extra floors for one person or everyone with a role, at all hours.

    ``building_id`` limits them to that building's lifts; without it they hold in every
    building's lifts that serve them.
    """

    floors: list[int] = Field(min_length=1, max_length=1099)
    person_id: str | None = Field(default=None, max_length=36)
    role: Role | None = None
    building_id: str | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _one_subject(self) -> FloorGrantCreate:
        if (self.person_id is None) == (self.role is None):
            raise ValueError("name either person_id or role")
        if any(f not in FLOORS for f in self.floors):
            raise ValueError(f"floors are between {FLOORS[0]} and {FLOORS[-1]}")
        return self


class FloorGrantPublic(BaseModel):
    """An extra-floors rule."""

    id: str
    person_id: str | None
    role: Role | None
    floors: list[int]
    building_id: str | None
    time_zone: str

    @classmethod
    def of(cls, rule: AccessRule) -> FloorGrantPublic:
        """From the domain rule."""
        return cls(
            id=rule.id,
            person_id=rule.person_id,
            role=rule.role,
            floors=sorted(rule.floors),
            building_id=rule.building_id,
            time_zone=rule.schedule.time_zone,
        )


class LiftReachPublic(BaseModel):
    """What one lift enables for the person now."""

    lift_id: str
    name: str
    building_id: str
    reason: Reason
    floors: list[int]


class PersonFloorsPublic(BaseModel):
    """A person's home floor (from their unit), extra floors, and each lift's answer now."""

    person_id: str
    unit_id: str | None
    home_floor: int | None
    extra: list[FloorGrantPublic]
    lifts: list[LiftReachPublic]

    @classmethod
    def of(cls, found: PersonFloors) -> PersonFloorsPublic:
        """From the service's read model."""
        return cls(
            person_id=found.person.id,
            unit_id=found.unit.id if found.unit is not None else None,
            home_floor=found.home_floor,
            extra=[FloorGrantPublic.of(rule) for rule in found.rules],
            lifts=[
                LiftReachPublic(
                    lift_id=r.lift.id,
                    name=r.lift.name,
                    building_id=r.lift.building_id,
                    reason=r.reason,
                    floors=list(r.floors),
                )
                for r in found.lifts
            ],
        )


@router.get("/lifts")
def list_lifts(deps: Deps, principal: Reader) -> list[LiftPublic]:
    """Every lift."""
    return [LiftPublic.of(lift) for lift in overview.list_lifts(context_for(deps, principal))]


@router.post("/lifts", status_code=201)
def add_lift(deps: Deps, principal: Staff, body: LiftCreate) -> LiftPublic:
    """Add a lift serving ``floors`` of a building."""
    context = context_for(deps, principal)
    return LiftPublic.of(places.add_lift(context, body.building_id, body.name, body.floors))


@router.post("/units", status_code=201)
def add_unit(deps: Deps, principal: Staff, body: UnitCreate) -> UnitPublic:
    """Add a unit; people living in it reach its floor in their building's lifts."""
    context = context_for(deps, principal)
    return UnitPublic.of(lift_floors.add_unit(context, body.building_id, body.label, body.floor))


class UnitAssignment(BaseModel):
    """The unit a person lives or works in (``null``: none)."""

    unit_id: str | None = Field(default=None, max_length=36)


@router.put("/people/{person_id}/unit")
def assign_unit(
    deps: Deps, principal: Staff, person_id: str, body: UnitAssignment
) -> UnitAssignment:
    """Record a person's unit: its floor becomes their home floor in its building's lifts."""
    person = people.set_unit(context_for(deps, principal), person_id, body.unit_id)
    return UnitAssignment(unit_id=person.unit_id)


@router.post("/floor-grants", status_code=201)
def grant_floors(deps: Deps, principal: Staff, body: FloorGrantCreate) -> FloorGrantPublic:
    """Give a person or a role extra floors (audited)."""
    rule = lift_floors.grant_floors(
        context_for(deps, principal),
        body.floors,
        person_id=body.person_id,
        role=body.role,
        building_id=body.building_id,
    )
    return FloorGrantPublic.of(rule)


@router.get("/people/{person_id}/floors")
def person_floors(deps: Deps, principal: Reader, person_id: str) -> PersonFloorsPublic:
    """A person's floors in every lift now (the read is audited)."""
    return PersonFloorsPublic.of(lift_floors.floors_of(context_for(deps, principal), person_id))
