"""The site side of a gate's sync: build its snapshot, receive its events exactly once."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from enum import Enum

from facegate.domain.access import AccessRule, AlertEntry
from facegate.domain.audit import DetailValue
from facegate.domain.credentials import VisitorPass
from facegate.domain.errors import NotFoundError
from facegate.domain.events import Event
from facegate.domain.gate import SNAPSHOT_FORMAT, GateEvent, GateEventKind, GateSnapshot
from facegate.domain.matching import Gallery, MatchPolicy
from facegate.domain.people import ConsentPurpose, consent_in_force
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.ports import TemplateSealer, UnitOfWork
from facegate.services.context import ServiceContext, audit


def gate_target(uow: UnitOfWork, target_id: str) -> tuple[Target, str]:
    """The door or lift ``target_id`` as the policy sees it, and its site id.

    Raises:
        NotFoundError: no door or lift has that id.
    """
    site = uow.site.get()
    site_id = site.id if site is not None else ""
    for lift in uow.places.lifts():
        if lift.id == target_id:
            return Target(lift.id, frozenset(CredentialKind), floors=lift.floors), site_id
    door = uow.places.door(target_id)
    return Target(door.id, door.accepted, door.mode), door.site_id


def build_snapshot(
    context: ServiceContext,
    sealer: TemplateSealer,
    target_id: str,
    model_id: str,
    match: MatchPolicy,
    mode: SiteMode = SiteMode.NORMAL,
) -> GateSnapshot:
    """Read everything a gate at ``target_id`` needs into a snapshot (audited).

    Only templates of ``model_id`` of people with face consent in force who have not
    moved out are decrypted into the gallery.

    Raises:
        NotFoundError: unknown door or lift.
        KeyFileError: a template does not decrypt with the site key.
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        now = context.clock.now()
        target, site_id = gate_target(uow, target_id)
        people, gallery, digest = _people_and_gallery(uow, sealer, model_id, now)
        cards, pins, passes, alerts, rules = _credentials(uow, list(people))
        access = AccessData(mode, people, gallery, match, cards, pins, passes, rules, alerts)
        content = (target, mode, match, cards, pins, passes, alerts, rules, people)
        digest.update(canonical_json(content).encode())
        details: dict[str, DetailValue] = {"target": target_id, "templates": len(gallery)}
        audit(uow, context, "gate.snapshot", None, details)
        uow.commit()
    version = digest.hexdigest()[:32]
    return GateSnapshot(SNAPSHOT_FORMAT, version, now, site_id, model_id, target, access)


def _people_and_gallery(
    uow: UnitOfWork, sealer: TemplateSealer, model_id: str, now: datetime
) -> tuple[dict[str, PersonAccess], Gallery, hashlib._Hash]:
    people: dict[str, PersonAccess] = {}
    for person in uow.people.all():
        consent = consent_in_force(
            uow.consents.for_person(person.id), ConsentPurpose.FACE_ACCESS, now
        )
        people[person.id] = PersonAccess(
            person.role, consent is not None, None, person.moved_out_at is not None
        )
    gallery, digest = Gallery(), hashlib.sha256(model_id.encode())
    usable = {pid for pid, p in people.items() if p.face_consent and not p.moved_out}
    template_ids = []
    for template in uow.templates.for_model(model_id):
        key = uow.keys.get(template.person_id)
        if template.person_id in usable and key is not None:
            gallery.add(template.person_id, sealer.open(key, template))
            template_ids.append(template.id)
    # Sorted: the database returns rows in no promised order, the version must not care.
    for template_id in sorted(template_ids):
        digest.update(template_id.encode())
    return people, gallery, digest


def canonical_json(value: object) -> str:
    """``value`` as JSON that equal content always spells the same way, in any process.

    Dataclasses become objects, sets and frozensets sorted lists (their iteration order
    follows per-process string hashing), enums their values, dates ISO 8601, dict keys
    sorted.
    """
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), default=str)


def _plain(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((_plain(v) for v in value), key=repr)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _credentials(
    uow: UnitOfWork, person_ids: Sequence[str]
) -> tuple[
    dict[str, str],
    dict[str, str],
    dict[str, VisitorPass],
    tuple[AlertEntry, ...],
    tuple[AccessRule, ...],
]:
    cards: dict[str, str] = {}
    pins: dict[str, str] = {}
    passes: dict[str, VisitorPass] = {}
    alerts: list[AlertEntry] = []
    rules: dict[str, AccessRule] = {}
    for person_id in person_ids:
        person = uow.people.get(person_id)
        cards.update({card.number: person_id for card in uow.credentials.cards_for(person_id)})
        pin = uow.credentials.pin_for(person_id)
        if pin is not None:
            pins[person_id] = pin.pin_hash
        passes.update({p.code_hash: p for p in uow.passes.for_host(person_id)})
        alerts.extend(uow.alerts.for_person(person_id))
        rules.update({r.id: r for r in uow.rules.for_subject(person_id, person.role)})
    ordered = tuple(rules[key] for key in sorted(rules))
    return cards, pins, passes, tuple(sorted(alerts, key=lambda a: a.id)), ordered


def receive_events(context: ServiceContext, events: Sequence[GateEvent]) -> int:
    """Store a gate's events, each once by its key; returns how many were new.

    A decision becomes an access event (its id is the key) and counts a visitor pass's
    use; an alarm or remote unlock becomes an audit record. All in one transaction.

    Raises:
        DatabaseUnavailableError: the database cannot be reached (nothing is stored).
    """
    new = 0
    with context.store.unit_of_work() as uow:
        for event in events:
            if not uow.events.claim_receipt(event.key, event.gate_id, context.clock.now()):
                continue
            _store_one(uow, context, event)
            new += 1
        uow.commit()
    return new


def _store_one(uow: UnitOfWork, context: ServiceContext, event: GateEvent) -> None:
    if event.kind is not GateEventKind.DECISION or event.reason is None:
        details: dict[str, DetailValue] = {
            "door_id": event.door_id,
            "gate_id": event.gate_id,
            "key": event.key,
            "note": event.note,
        }
        audit(uow, context, f"door.{event.kind.value}", event.person_id, details)
        return
    scores = {name: float(value) for name, value in event.scores.items()}
    uow.events.add(
        Event(
            event.key,
            event.door_id,
            event.occurred_at,
            event.granted,
            event.reason,
            event.person_id,
            scores,
        )
    )
    if event.granted and event.pass_id is not None:
        try:
            visitor_pass = uow.passes.get(event.pass_id)
        except NotFoundError:
            return  # the pass was deleted since: nothing left to count
        if visitor_pass.uses < visitor_pass.max_uses:
            uow.passes.update(visitor_pass.used())
