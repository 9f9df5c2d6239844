"""Gate snapshots: a cheap version check, a batched rebuild, templates decrypted once.

The site data version (``site_state.data_version``, bumped in the transaction of every
change a decision reads, see :mod:`facegate.store.versioning`) decides whether a gate's
snapshot is current: :func:`snapshot_version` is one primary-key read, and a rebuild
happens only when it moved. A rebuild reads the site in a handful of whole-table queries
(never one per person) and decrypts only the templates it has not decrypted before: a
:class:`~facegate.services.template_cache.TemplateCache` keeps each model's decrypted
templates in one block, drops those deleted or of people no longer usable (erased,
consent withdrawn, moved out), and opens only the new ones.

What a snapshot holds for its door or lift (F1):

- card numbers and PIN hashes only of the people with an access rule there (for a lift,
  also of the people whose home floor it serves);
- the rules that name that door (or, for a lift, one of its floors in its building);
- for a lift, the home floors (unit floors) of the people of its building it serves
  (:mod:`facegate.domain.lifts`);
- visitor passes (at a lift a pass rides to its host's home floor);
- the active alert list;
- a gallery of :data:`GalleryScope` ``site`` (every usable resident, the default, see
  ``docs/security.md`` "Gate galleries") or ``allowed`` (those with a rule there plus
  alert-listed people).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from facegate.domain.access import AccessRule
from facegate.domain.audit import DetailValue
from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.lifts import home_floors
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.ports import TemplateSealer, UnitOfWork
from facegate.services.bulk import collector_paused
from facegate.services.context import ServiceContext, audit
from facegate.services.site_mode import mode_in_force
from facegate.services.site_rows import ROWS, RowMemo, SiteRows
from facegate.services.template_cache import TEMPLATES, TemplateCache

__all__ = [
    "DEFAULT_GALLERY_SCOPE",
    "TEMPLATES",
    "GalleryScope",
    "SnapshotRequest",
    "TemplateCache",
    "build_snapshot",
    "build_snapshots",
    "gate_target",
    "snapshot_version",
    "snapshot_versions",
]

GalleryScope = Literal["site", "allowed"]
"""Whose faces a door's gallery holds: every usable resident, or those allowed there."""

DEFAULT_GALLERY_SCOPE: GalleryScope = "site"
"""Chosen by measurement (``bench/gallery_scope.py``, ``docs/security.md``)."""


def gate_target(uow: UnitOfWork, target_id: str) -> tuple[Target, str]:
    """The door or lift ``target_id`` as the policy sees it, and its site id.

    Raises:
        NotFoundError: no door or lift has that id.
    """
    return _Places(uow).target(target_id)


class _Places:
    """The site and its lifts, read once for the doors and lifts of one transaction."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        site = uow.site.get()
        self.site_id = site.id if site is not None else ""
        self.time_zone = site.time_zone if site is not None else "UTC"
        self.lifts = {lift.id: lift for lift in uow.places.lifts()}

    def target(self, target_id: str) -> tuple[Target, str]:
        """As :func:`gate_target`."""
        lift = self.lifts.get(target_id)
        if lift is not None:
            kinds = frozenset(CredentialKind)
            target = Target(
                lift.id, kinds, floors=lift.floors, name=lift.name, building_id=lift.building_id
            )
            return target, self.site_id
        door = self.uow.places.door(target_id)
        zone = self.uow.zones.door(door.id, self.time_zone)
        target = Target(
            door.id, door.accepted, door.mode, name=door.name, zone=zone, liveness=door.liveness
        )
        return target, door.site_id


@dataclass(frozen=True, slots=True)
class SnapshotRequest:
    """What a snapshot is for: its door or lift, model, policy, site mode and scope.

    ``mode`` ``None`` (the default) is the site's mode in force, read from the store
    (:func:`facegate.services.site_mode.mode_in_force`); a mode given here overrides
    it (benchmarks, tests).
    """

    target_id: str
    model_id: str
    match: MatchPolicy
    mode: SiteMode | None = None
    scope: GalleryScope = DEFAULT_GALLERY_SCOPE

    def version(self, data_version: int, mode: SiteMode, presence: str = "") -> str:
        """The snapshot version at ``data_version`` in ``mode``: equal versions, equal data.

        ``presence`` is the door's zone presence stamp
        (:meth:`facegate.ports.ZoneRepository.stamp`): a passage in its anti-passback zone
        changes that zone's doors' snapshots only, not the site data version.
        """
        spelled = "|".join(
            (
                str(SNAPSHOT_FORMAT),
                self.target_id,
                self.model_id,
                repr(self.match),
                mode.value,
                self.scope,
                presence,
            )
        )
        return f"{data_version}.{hashlib.sha256(spelled.encode()).hexdigest()[:12]}"

    def resolved_mode(
        self, uow: UnitOfWork, now: datetime, store: object = None, data_version: int = -1
    ) -> SiteMode:
        """The mode the snapshot holds: the one given, else the site's in force at ``now``.

        ``store`` and ``data_version`` (as ``uow`` read it) let the site's mode requests
        be kept between polls (see :func:`facegate.services.site_mode.mode_in_force`).
        """
        if self.mode is not None:
            return self.mode
        if store is None or data_version < 0:
            return mode_in_force(uow, now)
        return mode_in_force(uow, now, store, data_version)


def snapshot_version(context: ServiceContext, request: SnapshotRequest) -> str:
    """The version a snapshot for ``request`` would have now (three small reads).

    The site mode is part of it, so a mode change, or a mode's end time passing, makes
    every gate's next poll fetch a new snapshot.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    (version,) = snapshot_versions(context, [request])
    return version


def snapshot_versions(context: ServiceContext, requests: Sequence[SnapshotRequest]) -> list[str]:
    """The versions of several doors' snapshots now, in one transaction (in order).

    The data version, the site mode and the doors' zone presence stamps are read once
    for all of them: a server checking its 24 kiosk doors pays three small reads, not
    72.

    Raises:
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        data_version = uow.reads.data_version()
        now = context.clock.now()
        modes: dict[SiteMode | None, SiteMode] = {}
        stamps = uow.zones.stamps([r.target_id for r in requests])
        versions = []
        for request in requests:
            if request.mode not in modes:
                modes[request.mode] = request.resolved_mode(uow, now, context.store, data_version)
            stamp = stamps[request.target_id]
            versions.append(request.version(data_version, modes[request.mode], stamp))
        return versions


def build_snapshot(
    context: ServiceContext,
    sealer: TemplateSealer,
    target_id: str,
    model_id: str,
    match: MatchPolicy,
    mode: SiteMode | None = None,
    *,
    scope: GalleryScope = DEFAULT_GALLERY_SCOPE,
    gate_id: str | None = None,
    cache: TemplateCache = TEMPLATES,
    memo: RowMemo = ROWS,
) -> GateSnapshot:
    """Read everything a gate at ``target_id`` needs into a snapshot (audited once).

    Only templates of ``model_id`` of people with face consent in force who have not
    moved out are in the gallery. ``mode`` ``None``: the site's mode in force.

    Raises:
        NotFoundError: unknown door or lift.
        KeyFileError: a template does not decrypt with the site key.
        DatabaseUnavailableError: the database cannot be reached.
    """
    request = SnapshotRequest(target_id, model_id, match, mode, scope)
    (snapshot,) = build_snapshots(context, sealer, [request], gate_id, cache, memo)
    return snapshot


def build_snapshots(
    context: ServiceContext,
    sealer: TemplateSealer,
    requests: Sequence[SnapshotRequest],
    gate_id: str | None = None,
    cache: TemplateCache = TEMPLATES,
    memo: RowMemo = ROWS,
) -> list[GateSnapshot]:
    """The snapshots of several doors at one data version, in one transaction.

    Each is audited (one ``gate.snapshot`` record per door and version, as
    :func:`build_snapshot`), but all are committed together: a server refreshing its
    kiosk doors after a change pays one commit, not one per door. The records are
    written after every snapshot is built: the database's write lock (taken by the
    first record on SQLite) is held for the records alone, not for the doors' builds,
    so the decisions' events and the console's audit records are not held up by them.

    Raises:
        NotFoundError: unknown door or lift.
        KeyFileError: a template does not decrypt with the site key.
        DatabaseUnavailableError: the database cannot be reached.
    """
    built = []
    with collector_paused(), context.store.unit_of_work() as uow:  # bulk: see services.bulk
        now = context.clock.now()
        data_version = uow.reads.data_version()
        rows = memo.rows(context.store, uow, data_version, now)
        stamps = uow.zones.stamps([r.target_id for r in requests])
        records: list[dict[str, DetailValue]] = []
        places = _Places(uow)
        for request in requests:
            mode = request.resolved_mode(uow, now, context.store, data_version)
            version = request.version(data_version, mode, stamps[request.target_id])
            target, site_id = places.target(request.target_id)
            access = _access(rows, uow, sealer, replace(request, mode=mode), target, cache)
            details: dict[str, DetailValue] = {
                "target": request.target_id,
                "templates": len(access.gallery),
                "version": version,
            }
            if gate_id is not None:
                details["gate_id"] = gate_id
            records.append(details)
            model_id = request.model_id
            built.append(
                GateSnapshot(SNAPSHOT_FORMAT, version, now, site_id, model_id, target, access)
            )
        for details in records:  # the writes last: the write lock for these alone
            audit(uow, context, "gate.snapshot", None, details)
        uow.commit()
    return built


def _access(
    rows: SiteRows,
    uow: UnitOfWork,
    sealer: TemplateSealer,
    request: SnapshotRequest,
    target: Target,
    cache: TemplateCache,
) -> AccessData:
    """The target's access data, assembled from ``rows``.

    What follows from a rule set or from the people shown is made once per version
    (:meth:`SiteRows.derived`), not once per door: the doors of one building share it.
    """
    if target.is_lift:
        car = target.car
        rules = rows.lift_rules(car)
        homes, allowed = rows.derived("lift", car, lambda: _lift_allowed(rows, target, rules))
    else:
        rules, homes = rows.door_rules(target.id), {}
        allowed = rows.derived("allowed", id(rules), lambda: _allowed(rules, rows.people))
    listed = {entry.person_id for entry in rows.alerts}
    people = rows.access(None if request.scope == "site" else frozenset(allowed | listed))
    usable = rows.derived("usable", id(people), lambda: _usable(people))
    model_id = request.model_id
    index = rows.index(uow, model_id, lambda: cache.prime(uow, sealer, model_id, usable))
    gallery = cache.gallery(uow, sealer, model_id, usable, index)
    cards, pins = rows.derived("credentials", id(allowed), lambda: _credentials(rows, allowed))
    passes = {p.code_hash: p for p in rows.passes}
    presence = {} if target.zone is None else uow.zones.presence(target.zone.zone)
    return AccessData(
        request.mode or SiteMode.NORMAL,
        people,
        gallery,
        request.match,
        cards,
        pins,
        passes,
        rules,
        rows.alerts,
        homes,
        {pid: p for pid, p in presence.items() if pid in allowed},
    )


def _usable(people: Mapping[str, PersonAccess]) -> frozenset[str]:
    """The people whose face may be in a gallery: consent in force, not moved out."""
    return frozenset(pid for pid, p in people.items() if p.face_consent and not p.moved_out)


def _credentials(
    rows: SiteRows, allowed: AbstractSet[str]
) -> tuple[Mapping[str, str], Mapping[str, str]]:
    """The card numbers (to person id) and PIN hashes (by person id) of the ``allowed``.

    Where everyone who holds one is allowed (a lift every resident rides), the site's
    own, not a copy made by walking them.
    """
    cards, pins = rows.cards, rows.pins
    holders = rows.derived("holders", "site", lambda: (frozenset(cards.values()), pins.keys()))
    if not holders[0] <= allowed:
        cards = {n: pid for n, pid in cards.items() if pid in allowed}
    if not holders[1] <= allowed:
        pins = {pid: h for pid, h in pins.items() if pid in allowed}
    return cards, pins


def _lift_allowed(
    rows: SiteRows, target: Target, rules: Sequence[AccessRule]
) -> tuple[dict[str, int], frozenset[str]]:
    """A lift's home floors (:func:`_homes`) and the people allowed there (rules or home)."""
    homes = _homes(rows, target)
    return homes, _allowed(rules, rows.people).union(homes)


def _homes(rows: SiteRows, target: Target) -> dict[str, int]:
    """For a lift, person id to a home floor it serves in its building; else empty."""
    if not target.is_lift or target.building_id is None:
        return {}
    every = home_floors(rows.homes_by_person(), target.building_id)
    return {pid: floor for pid, floor in every.items() if floor in target.floors}


def _allowed(
    rules: Iterable[AccessRule], people: Mapping[str, tuple[Role, bool]]
) -> frozenset[str]:
    """The people some rule about the target names, by id or by role."""
    rules = list(rules)
    named = {r.person_id for r in rules if r.person_id is not None}
    roles = {r.role for r in rules if r.role is not None}
    if not roles:
        return frozenset(named & people.keys())
    return frozenset(pid for pid, (role, _) in people.items() if pid in named or role in roles)
