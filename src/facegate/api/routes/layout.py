"""The site's layout and who may go where: buildings and access rules.

Rules are read a page at a time (they name people: each read is audited); the response
carries the whole count in ``X-Total-Count``.
"""

from __future__ import annotations

from datetime import time
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, model_validator

from facegate.domain.access import AccessRule, TimeWindow
from facegate.domain.people import Role
from facegate.domain.site import FLOORS, Building
from facegate.http.deps import Deps, Reader, Staff, context_for
from facegate.services import places
from facegate.services.paging import MAX_PAGE

router = APIRouter(tags=["layout"])

TOTAL_HEADER = "X-Total-Count"
"""Response header with the whole list's length of a paged list."""


class BuildingCreate(BaseModel):
    """A building to add."""

    name: str = Field(min_length=1, max_length=200)


class BuildingPublic(BaseModel):
    """A building."""

    id: str
    name: str

    @classmethod
    def of(cls, building: Building) -> BuildingPublic:
        """From the domain record."""
        return cls(id=building.id, name=building.name)


HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
"""A local time of day as ``HH:MM`` (no offset: the site's time zone applies)."""


class WindowBody(BaseModel):
    """A weekly window: weekdays (0 Monday to 6 Sunday) from ``start`` to ``end``.

    The times are ``HH:MM`` in the site's time zone; an ``end`` before ``start`` runs
    past midnight.
    """

    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=HHMM, examples=["07:00"])
    end: str = Field(pattern=HHMM, examples=["22:30"])

    def window(self) -> TimeWindow:
        """As the domain's window."""
        start, end = time.fromisoformat(self.start), time.fromisoformat(self.end)
        return TimeWindow(frozenset(self.weekdays), start, end)


class RuleCreate(BaseModel):
    """Who (a role, or one person) may pass which doors or reach which floors, and when."""

    role: Role | None = None
    person_id: str | None = Field(default=None, min_length=1, max_length=64)
    door_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=500
    )
    floors: list[Annotated[int, Field(ge=FLOORS[0], le=FLOORS[-1])]] = Field(
        default_factory=list, max_length=500
    )
    windows: list[WindowBody] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _one_subject(self) -> RuleCreate:
        if (self.role is None) == (self.person_id is None):
            raise ValueError("give exactly one of role and person_id")
        if not self.door_ids and not self.floors:
            raise ValueError("give at least one door or floor")
        return self


class RulePublic(BaseModel):
    """An access rule."""

    id: str
    role: Role | None
    person_id: str | None
    door_ids: list[str]
    floors: list[int]
    time_zone: str
    windows: list[WindowBody]

    @classmethod
    def of(cls, rule: AccessRule) -> RulePublic:
        """From the domain record."""
        windows = [
            WindowBody(
                weekdays=sorted(w.weekdays),
                start=w.start.strftime("%H:%M"),
                end=w.end.strftime("%H:%M"),
            )
            for w in rule.schedule.windows
        ]
        return cls(
            id=rule.id,
            role=rule.role,
            person_id=rule.person_id,
            door_ids=sorted(rule.door_ids),
            floors=sorted(rule.floors),
            time_zone=rule.schedule.time_zone,
            windows=windows,
        )


@router.get("/buildings")
def list_buildings(deps: Deps, principal: Reader) -> list[BuildingPublic]:
    """Every building, by name."""
    return [BuildingPublic.of(b) for b in places.list_buildings(context_for(deps, principal))]


@router.post("/buildings", status_code=201)
def add_building(deps: Deps, principal: Staff, body: BuildingCreate) -> BuildingPublic:
    """Add a building."""
    return BuildingPublic.of(places.add_building(context_for(deps, principal), body.name))


@router.get("/rules")
def list_rules(
    deps: Deps,
    principal: Reader,
    response: Response,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> list[RulePublic]:
    """One page of the access rules (the read is audited); the count in X-Total-Count."""
    found = places.list_rules(context_for(deps, principal), page)
    response.headers[TOTAL_HEADER] = str(found.total)
    return [RulePublic.of(r) for r in found.items]


@router.post("/rules", status_code=201)
def add_rule(deps: Deps, principal: Staff, body: RuleCreate) -> RulePublic:
    """Add an access rule (windows in the site's time zone)."""
    rule = places.add_access_rule(
        context_for(deps, principal),
        [w.window() for w in body.windows],
        person_id=body.person_id,
        role=body.role,
        door_ids=body.door_ids,
        floors=body.floors,
    )
    return RulePublic.of(rule)
