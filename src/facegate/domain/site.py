"""The physical site: a complex, its buildings, units, doors and lifts.

Rule enforced here (the law in several places requires a non-face way in): a door that
accepts faces also accepts at least one other credential kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from facegate.domain.errors import ValidationError


class DoorKind(StrEnum):
    """Where a door sits: the complex's entrance, a building's door, or a vehicle gate."""

    ENTRANCE = "entrance"
    BUILDING = "building"
    GATE = "gate"


class CredentialKind(StrEnum):
    """The ways a person can prove who they are at a door."""

    FACE = "face"
    CARD = "card"
    PIN = "pin"
    QR = "qr"


class CredentialMode(StrEnum):
    """How a door combines credentials.

    ``any_of``: any one accepted credential opens it. ``all_of``: every accepted kind must
    be shown by the same person (e.g. card then a 1:1 check of the card holder's face).
    """

    ANY_OF = "any_of"
    ALL_OF = "all_of"


class DoorLiveness(StrEnum):
    """How a door tells a live face from a photo, a screen or a mask.

    ``default``: the active check (``challenge``) where the server decides from a kiosk
    page's frames, the gate's configured passive check (``FACEGATE_GATE__LIVENESS``)
    elsewhere; with that setting ``none`` (tests, benches) no check at all.
    ``passive``: the gate's configured passive check everywhere (no prompts).
    ``challenge``: the active check: the kiosk shows random prompts (turn, look up,
    blink, open the mouth) the face must follow in order and in time
    (:mod:`facegate.domain.challenge`); applied even when the passive setting is
    ``none``. An edge gate has no screen to prompt on and keeps its passive check.
    """

    DEFAULT = "default"
    PASSIVE = "passive"
    CHALLENGE = "challenge"


def kiosk_check(setting: DoorLiveness, passive: str) -> str:
    """How faces posted from a kiosk page are checked at a door with ``setting``.

    Args:
        setting: the door's liveness mode.
        passive: the site's passive mode (``FACEGATE_GATE__LIVENESS``: ``none``,
            ``layered``...).

    Returns:
        ``challenge``, or ``passive`` itself.
    """
    if setting is DoorLiveness.CHALLENGE:
        return "challenge"
    if setting is DoorLiveness.DEFAULT and passive != "none":
        return "challenge"
    return passive


def check_time_zone(name: str) -> str:
    """Return ``name`` if it is an IANA time zone (``"Europe/Berlin"``, ``"UTC"``).

    Raises:
        ValidationError: unknown time zone.
    """
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ValidationError(f"unknown time zone {name!r} (use an IANA name)") from err
    return name


@dataclass(frozen=True, slots=True)
class Site:
    """A residential complex: the unit of administration and of the site key.

    Attributes:
        id: opaque id.
        name: display name.
        time_zone: IANA time zone schedules are written in.
    """

    id: str
    name: str
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ValidationError("a site needs a name")
        check_time_zone(self.time_zone)


@dataclass(frozen=True, slots=True)
class Building:
    """One building of a site."""

    id: str
    site_id: str
    name: str


FLOORS = range(-99, 1000)
"""The floors a unit or a lift's stop may be on (0 is the ground floor)."""


@dataclass(frozen=True, slots=True)
class Unit:
    """A flat or office in a building, on ``floor`` (0 the ground floor)."""

    id: str
    building_id: str
    label: str
    floor: int


@dataclass(frozen=True, slots=True)
class Door:
    """A door with a lock and a reader.

    Attributes:
        id: opaque id.
        site_id: the site it belongs to.
        name: display name ("North gate").
        kind: where it sits.
        mode: how credentials combine.
        accepted: the credential kinds its reader takes; a door taking faces must take
            at least one other kind.
        building_id: the building it opens, ``None`` for a site entrance or gate.
        liveness: how it checks that a face is live (:class:`DoorLiveness`).
    """

    id: str
    site_id: str
    name: str
    kind: DoorKind
    mode: CredentialMode
    accepted: frozenset[CredentialKind]
    building_id: str | None = None
    liveness: DoorLiveness = DoorLiveness.DEFAULT

    def __post_init__(self) -> None:
        if not self.accepted:
            raise ValidationError(f"door {self.name!r} accepts no credential at all")
        if CredentialKind.FACE in self.accepted and len(self.accepted) < 2:
            raise ValidationError(
                f"door {self.name!r} accepts faces only: a door that accepts faces must also "
                "accept a card, PIN or QR pass, so nobody is forced to give their face"
            )


@dataclass(frozen=True, slots=True)
class Lift:
    """A lift whose car panel enables only the floors a person may reach.

    Attributes:
        floors: the floors it serves, ascending, no duplicates.
    """

    id: str
    building_id: str
    name: str
    floors: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.floors:
            raise ValidationError(f"lift {self.name!r} serves no floor")
        if list(self.floors) != sorted(set(self.floors)):
            raise ValidationError(f"lift {self.name!r}: floors must ascend without repeats")
