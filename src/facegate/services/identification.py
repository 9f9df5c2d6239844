"""1:N identification against the site's enrolled faces.

Only templates of the descriptor model in use are compared (a new model means
re-enrollment, never a silent mix), and only those of people whose face_access consent
is in force and who have not moved out: anything else fails closed as "unknown".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from facegate.domain.audit import DetailValue
from facegate.domain.matching import FloatArray, Gallery, MatchPolicy
from facegate.domain.people import ConsentPurpose, consent_in_force
from facegate.domain.reasons import Reason
from facegate.ports import TemplateSealer
from facegate.services.context import ServiceContext, audit


@dataclass(frozen=True, slots=True)
class FaceIdentity:
    """Who one face is.

    Attributes:
        person_id: the matched person, ``None`` when unknown.
        distance: euclidean distance to the nearest enrolled person (``None`` when
            nothing was compared: empty gallery or a face that failed the quality gate).
        decision: ``"match"`` or ``"unknown"``.
        reason: the decision's reason code.
    """

    person_id: str | None
    distance: float | None
    decision: Literal["match", "unknown"]
    reason: Reason


def load_gallery(context: ServiceContext, sealer: TemplateSealer, model_id: str) -> Gallery:
    """Decrypt the templates of ``model_id`` that may be used into a gallery (audited).

    Raises:
        KeyFileError: a template does not decrypt with the site key in use.
    """
    gallery = Gallery()
    with context.store.unit_of_work() as uow:
        now = context.clock.now()
        usable = {
            person.id
            for person in uow.people.all()
            if person.moved_out_at is None
            and consent_in_force(
                uow.consents.for_person(person.id), ConsentPurpose.FACE_ACCESS, now
            )
        }
        templates = [t for t in uow.templates.for_model(model_id) if t.person_id in usable]
        for template in templates:
            key = uow.keys.get(template.person_id)
            if key is not None:
                gallery.add(template.person_id, sealer.open(key, template))
        details: dict[str, DetailValue] = {"model_id": model_id, "templates": len(gallery)}
        audit(uow, context, "gallery.read", None, details)
        uow.commit()
    return gallery


def identify_probes(
    gallery: Gallery, probes: Sequence[FloatArray | None], policy: MatchPolicy
) -> list[FaceIdentity]:
    """Identify each probe; ``None`` stands for a face that failed the quality gate.

    The threshold is ``policy``'s for the gallery's size
    (:meth:`~facegate.domain.matching.MatchPolicy.identification_threshold`).
    """
    results = []
    for probe in probes:
        if probe is None:
            results.append(FaceIdentity(None, None, "unknown", Reason.LOW_QUALITY))
            continue
        found, _ = gallery.search(probe, policy)
        distance = found.distance if math.isfinite(found.distance) else None
        decision: Literal["match", "unknown"] = "match" if found.matched else "unknown"
        results.append(FaceIdentity(found.person_id, distance, decision, found.reason))
    return results
