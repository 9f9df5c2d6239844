"""The synthetic complex, built through the product's own services.

Four buildings, each with five doors and one lift (floors 0-9), its own weekly
schedule (every one open at the time of the bench, each written differently), and its
residents: each resident is a person with face consent, three templates enrolled through
the real enrolment service (quality-checked descriptors sealed under their data key) and
a rule for their building's doors and their floor. Real people of the shared data are
residents alongside the synthetic fill (see :mod:`facegate.sitebench.fill`); one member
of staff may pass everywhere (the writer gives them new cards to time how fast a change
reaches every door). Every door gets a device key.

Doors take face and card together by default (``all_of``: the card names the person,
the face is checked 1:1 against their templates), as a complex of this size must: with
the shipped ``max_fpir`` a face alone opens nothing from about 58 residents on
(docs/matching.md). ``any_of`` doors (face or card) are the bench's ``--face-only`` run.
Every resident holds a card (:func:`card_of` their name).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as wall_time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facegate.domain.access import TimeWindow
from facegate.domain.accounts import GateKind
from facegate.domain.errors import BadInputError, DuplicateFaceError
from facegate.domain.faces import UploadedPhoto
from facegate.domain.matching import FloatArray
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind, DoorLiveness
from facegate.ports import TemplateSealer, UnitOfWork
from facegate.services import accounts, consent, credentials, enrollment, people, places, rights
from facegate.services.context import ServiceContext
from facegate.services.enrollment import DuplicateCheck

NO_CHECK = DuplicateCheck(threshold=0.0)
BUILDINGS = 4
DOORS_PER_BUILDING = 5
FLOORS = tuple(range(10))
ALL_DAYS = frozenset(range(7))


class CachedDescriber:
    """A :class:`facegate.ports.PhotoDescriber` answering descriptors already computed.

    The real engine described the real photos once (cached); synthetic people's
    descriptors come from the fill. Enrolment then runs its real path: consent check,
    data key, sealing, audit.
    """

    def __init__(self, model_id: str, known: dict[str, FloatArray]) -> None:
        self._model_id, self.known = model_id, known

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model."""
        return self._model_id

    def describe(self, path: Path | UploadedPhoto) -> FloatArray:
        """The descriptor computed for ``path``.

        Raises:
            BadInputError: nothing known for it.
        """
        key = str(path) if isinstance(path, Path) else path.name
        if key not in self.known:
            raise BadInputError(f"{key}: no descriptor")
        return self.known[key]


@dataclass
class Layout:
    """The complex's places: per building its door ids, lift id and schedule windows."""

    doors: list[list[str]] = field(default_factory=list)
    lifts: list[str] = field(default_factory=list)
    windows: list[tuple[TimeWindow, ...]] = field(default_factory=list)

    @property
    def all_doors(self) -> list[str]:
        """Every door, building by building."""
        return [d for building in self.doors for d in building]

    def building_of(self, door_id: str) -> int:
        """The building index of a door."""
        return next(b for b, doors in enumerate(self.doors) if door_id in doors)


@dataclass
class Resident:
    """A person living in the complex: where, and under which id now."""

    person_id: str
    building: int
    floor: int


def schedules(now: datetime) -> list[tuple[TimeWindow, ...]]:
    """Per building, weekly windows written differently that are all open at ``now``."""
    today = now.weekday()
    start = (now - timedelta(hours=3)).time().replace(microsecond=0)
    end = (now + timedelta(hours=3)).time().replace(microsecond=0)
    return [
        (TimeWindow(ALL_DAYS, wall_time(0), wall_time(23, 59, 59)),),
        (
            TimeWindow(ALL_DAYS, wall_time(0), wall_time(12)),
            TimeWindow(ALL_DAYS, wall_time(12), wall_time(23, 59, 59)),
        ),
        (
            TimeWindow(frozenset({today}), wall_time(0), wall_time(23, 59, 59)),
            TimeWindow(ALL_DAYS - {today}, wall_time(6), wall_time(22)),
        ),
        (TimeWindow(ALL_DAYS, start, end),),  # over midnight when it has to be
    ]


def floor_of(name: str) -> int:
    """The floor the resident named ``name`` lives on (1-9)."""
    return 1 + len(name) % (len(FLOORS) - 1)


def card_of(name: str) -> str:
    """The card number of the resident named ``name`` (the same after an erasure)."""
    return "CARD-" + hashlib.sha256(name.encode()).hexdigest()[:12].upper()


def build_layout(context: ServiceContext, mode: CredentialMode = CredentialMode.ALL_OF) -> Layout:
    """Buildings, doors (face and card: ``mode``) and lifts, with each building's schedule."""
    layout = Layout(windows=schedules(context.clock.now()))
    kinds = (DoorKind.BUILDING,) * (DOORS_PER_BUILDING - 1) + (DoorKind.ENTRANCE,)
    accepted = (CredentialKind.FACE, CredentialKind.CARD)
    for b in range(BUILDINGS):
        building = places.add_building(context, f"Building {b + 1}")
        layout.doors.append(
            [
                places.add_door(
                    context,
                    f"B{b + 1} door {d + 1}",
                    kind,
                    mode,
                    accepted,
                    building.id,
                    # Recorded people cannot follow a kiosk's prompts: the bench measures
                    # the passive check at every door (a kiosk's default is the challenge).
                    DoorLiveness.PASSIVE,
                ).id
                for d, kind in enumerate(kinds)
            ]
        )
        layout.lifts.append(places.add_lift(context, building.id, f"B{b + 1} lift", FLOORS).id)
    return layout


def add_resident(
    context: ServiceContext,
    sealer: TemplateSealer,
    describer: CachedDescriber,
    layout: Layout,
    name: str,
    keys: Sequence[str],
    building: int,
    duplicates: DuplicateCheck | None = None,
) -> Resident:
    """A resident of ``building``: person, consent, templates (real path), card, rule.

    Raises:
        DuplicateFaceError: the enrolment refused the face as another person's (the
            person added is erased again, as an operator would).
    """
    person = people.add_person(context, name, Role.RESIDENT)
    consent.grant_consent(
        context, person.id, ConsentPurpose.FACE_ACCESS, "bench-1", ConsentMethod.ELECTRONIC
    )
    images = [Path(k) for k in keys]
    try:
        enrollment.enroll(context, sealer, lambda: describer, person.id, images, duplicates)
    except DuplicateFaceError:
        rights.erase_person(context, person.id)
        raise
    credentials.add_card(context, person.id, card_of(name))
    floor = floor_of(name)
    places.add_access_rule(
        context,
        layout.windows[building],
        person_id=person.id,
        door_ids=layout.doors[building],
        floors=[floor],
    )
    return Resident(person.id, building, floor)


def add_staff(context: ServiceContext, layout: Layout) -> str:
    """A member of staff who may pass every door and reach every floor at any time."""
    person = people.add_person(context, "Bench caretaker", Role.STAFF)
    always = TimeWindow(ALL_DAYS, wall_time(0), wall_time(23, 59, 59))
    places.add_access_rule(
        context, [always], person_id=person.id, door_ids=layout.all_doors, floors=FLOORS
    )
    return person.id


def synthetic_keys(index: int, templates: int) -> list[str]:
    """The describer keys of synthetic person ``index``'s templates."""
    return [f"synthetic/{index}/{t}" for t in range(templates)]


FILL_BATCH = 250
"""Synthetic residents written per transaction."""


def add_fill(
    context: ServiceContext,
    sealer: TemplateSealer,
    model_id: str,
    layout: Layout,
    fill: npt.NDArray[np.float32],
    progress: Callable[[int], None] = lambda done: None,
    batch: int = FILL_BATCH,
) -> list[Resident]:
    """Enrol the synthetic people ``fill`` (people x templates x 128), round the buildings.

    A bulk import of a roster: :data:`FILL_BATCH` residents per transaction, each written
    by the services' own steps (person, consent, sealed templates under a data key, card,
    rule, each audited) inside the batch's unit of work. Their enrolment skips the
    duplicate check (it decrypts every stored template per enrolment, quadratic over a
    whole complex); the fill was drawn free of duplicates instead
    (:func:`facegate.sitebench.fill.distinct_people`).
    """
    residents: list[Resident] = []
    for start in range(0, fill.shape[0], batch):
        with context.store.unit_of_work() as uow:
            for i in range(start, min(start + batch, fill.shape[0])):
                name, building = f"Fill {i:05d}", i % BUILDINGS
                residents.append(
                    _fill_resident(uow, context, sealer, model_id, layout, name, fill[i], building)
                )
            uow.commit()
        progress(len(residents))
    return residents


def _fill_resident(
    uow: UnitOfWork,
    context: ServiceContext,
    sealer: TemplateSealer,
    model_id: str,
    layout: Layout,
    name: str,
    templates: npt.NDArray[np.float32],
    building: int,
) -> Resident:
    """One synthetic resident inside ``uow``: what :func:`add_resident` writes."""
    person = people.add_person_in(uow, context, name, Role.RESIDENT)
    consent.grant_consent_in(
        uow, context, person.id, ConsentPurpose.FACE_ACCESS, "bench-1", ConsentMethod.ELECTRONIC
    )
    images: dict[Path | UploadedPhoto, FloatArray] = {
        Path(f"{name}/{t}"): template for t, template in enumerate(templates)
    }
    result = enrollment.Enrollment(person.id, model_id)
    enrollment.store_templates_in(uow, context, sealer, result, images, NO_CHECK)
    credentials.add_card_in(uow, context, person.id, card_of(name))
    floor = floor_of(name)
    places.add_access_rule_in(
        uow,
        context,
        layout.windows[building],
        person_id=person.id,
        door_ids=layout.doors[building],
        floors=[floor],
    )
    return Resident(person.id, building, floor)


def issue_keys(context: ServiceContext, layout: Layout) -> dict[str, str]:
    """A kiosk's device key for every door and lift: target id -> secret."""
    targets = [*layout.all_doors, *layout.lifts]
    return {t: accounts.issue_device_key(context, t, "bench kiosk").secret for t in targets}


def issue_edge_key(context: ServiceContext, door_id: str, label: str) -> tuple[str, str]:
    """An edge gate registered for ``door_id`` and its device key: (gate id, secret)."""
    issued = accounts.issue_device_key(context, door_id, label, GateKind.EDGE)
    return issued.key.gate_id, issued.secret
