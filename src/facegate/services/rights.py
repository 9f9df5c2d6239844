"""The person's rights: export everything held about them, and erasure.

Erasure destroys the person's data key (so every copy of their templates, backups
included, becomes unreadable), deletes their templates, cards, PIN, the passes they
issued, alert entries and access rules about them and their row; their events stay for the site's
statistics with the person removed; their consent records stay, by id only, as proof of
what was agreed, until the retention policy's ``consent_proof_days`` has passed since
withdrawal (an erasure withdraws any consent still in force).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from facegate.domain.audit import DetailValue
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit

EXPORT_FORMAT = "facegate.person-export/v1"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _person_part(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    person = uow.people.get(person_id)
    return {
        "id": person.id,
        "name": person.name,
        "role": person.role.value,
        "unit_id": person.unit_id,
        "minor": person.minor,
        "created_at": _iso(person.created_at),
        "moved_out_at": _iso(person.moved_out_at),
    }


def _credentials_part(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    pin = uow.credentials.pin_for(person_id)
    return {
        "cards": [
            {"id": c.id, "number": c.number, "created_at": _iso(c.created_at)}
            for c in uow.credentials.cards_for(person_id)
        ],
        "pin": None if pin is None else {"id": pin.id, "set_at": _iso(pin.created_at)},
        "face_templates": [
            {"id": t.id, "model_id": t.model_id, "created_at": _iso(t.created_at)}
            for t in uow.templates.for_person(person_id)
        ],
    }


def _consents_part(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    return {
        "consents": [
            {
                "id": c.id,
                "purpose": c.purpose.value,
                "text_version": c.text_version,
                "granted_at": _iso(c.granted_at),
                "method": c.method.value,
                "withdrawn_at": _iso(c.withdrawn_at),
                "guardian": c.guardian,
            }
            for c in uow.consents.for_person(person_id)
        ],
    }


def _records_part(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    return {
        "visitor_passes_issued": [
            {
                "id": p.id,
                "visitor_name": p.visitor_name,
                "valid_from": _iso(p.valid_from),
                "valid_until": _iso(p.valid_until),
                "max_uses": p.max_uses,
                "uses": p.uses,
            }
            for p in uow.passes.for_host(person_id)
        ],
        "alert_entries": [
            {
                "id": a.id,
                "reason": a.reason,
                "legal_basis": a.legal_basis,
                "added_by": a.added_by,
                "added_at": _iso(a.added_at),
                "expires_at": _iso(a.expires_at),
            }
            for a in uow.alerts.for_person(person_id)
        ],
        "events": [
            {
                "id": e.id,
                "door_id": e.door_id,
                "occurred_at": _iso(e.occurred_at),
                "granted": e.granted,
                "reason": e.reason.value,
                "scores": e.scores,
            }
            for e in uow.events.for_person(person_id)
        ],
    }


def _rules_part(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    person = uow.people.get(person_id)
    rules = [r for r in uow.rules.for_subject(person.id, person.role) if r.person_id == person_id]
    return {
        "access_rules": [
            {
                "id": r.id,
                "door_ids": sorted(r.door_ids),
                "floors": sorted(r.floors),
                "time_zone": r.schedule.time_zone,
                "windows": [
                    {
                        "weekdays": sorted(w.weekdays),
                        "start": w.start.isoformat("minutes"),
                        "end": w.end.isoformat("minutes"),
                    }
                    for w in r.schedule.windows
                ],
            }
            for r in rules
        ]
    }


def _disclosures_part(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    # Other people a disclosure also covered are not named: this export is one person's.
    return {
        "disclosures": [
            {
                "id": d.id,
                "requesting_body": d.requesting_body,
                "legal_basis": d.legal_basis,
                "data_classes": sorted(d.data_classes),
                "period_start": _iso(d.period_start),
                "period_end": _iso(d.period_end),
                "approved_by": d.approved_by,
                "approved_at": _iso(d.approved_at),
            }
            for d in uow.disclosures.all(person_id)
        ]
    }


def export_person(
    context: ServiceContext, person_id: str, *, include_disclosures: bool
) -> dict[str, Any]:
    """Everything held about a person, as JSON-ready data (the export is audited).

    Face templates are listed (id, model, date) but their descriptors are not written
    out: a biometric vector in a plain file would be the one unprotected copy.

    Args:
        context: the service context.
        person_id: whose data.
        include_disclosures: list the disclosures to authorities about them: the site's
            policy, :attr:`facegate.config.Settings.disclosures_visible_to_person`, which
            every front end (API, portal, console, CLI) passes; there is no default, so
            no export forgets it. When ``False`` the ``disclosures`` key is left out.

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        document: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "exported_at": _iso(context.clock.now()),
            "person": _person_part(uow, person_id),
            **_credentials_part(uow, person_id),
            **_consents_part(uow, person_id),
            **_records_part(uow, person_id),
            **_rules_part(uow, person_id),
        }
        if include_disclosures:
            document.update(_disclosures_part(uow, person_id))
        details: dict[str, DetailValue] = {"disclosures_included": include_disclosures}
        audit(uow, context, "person.export", person_id, details)
        uow.commit()
    return document


@dataclass(frozen=True, slots=True)
class Erasure:
    """How many records of each kind an erasure removed or anonymised."""

    person_id: str
    counts: dict[str, int]


def erase_person(context: ServiceContext, person_id: str) -> Erasure:
    """Erase a person (see the module docstring); nothing is left readable in the files.

    Raises:
        NotFoundError: unknown person.
    """
    with context.store.unit_of_work() as uow:
        uow.people.get(person_id)
        now = context.clock.now()
        for record in uow.consents.for_person(person_id):
            if record.in_force(now):
                uow.consents.update(record.withdrawn(now))
        counts = {
            "face_templates": uow.templates.delete_for_person(person_id),
            "credentials": uow.credentials.delete_for_person(person_id),
            "visitor_passes": uow.passes.delete_for_host(person_id),
            "alert_entries": uow.alerts.delete_for_person(person_id),
            "access_rules": uow.rules.delete_for_person(person_id),
            "events_anonymised": uow.events.anonymise(person_id),
            "snapshots": uow.snapshots.delete_for_person(person_id),
            "zone_presence": uow.zones.delete_for_person(person_id),
        }
        uow.keys.delete(person_id)
        uow.people.delete(person_id)
        details: dict[str, DetailValue] = dict(counts)
        audit(uow, context, "person.erase", person_id, details)
        uow.commit()
    context.store.reclaim_erased()
    return Erasure(person_id, counts)
