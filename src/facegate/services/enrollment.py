"""Enroll a face: consent first, then the quality gate, then sealed templates."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from facegate.domain.audit import DetailValue
from facegate.domain.credentials import SealedTemplate
from facegate.domain.errors import BadInputError, ConsentRequiredError
from facegate.domain.faces import UploadedPhoto
from facegate.domain.matching import FloatArray
from facegate.domain.people import ConsentPurpose, consent_in_force
from facegate.ports import PhotoDescriber, TemplateSealer, UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id


@dataclass(slots=True)
class Enrollment:
    """The outcome of one enrollment.

    Attributes:
        person_id: who.
        model_id: the descriptor model the templates were made with.
        template_ids: one per image stored, in image order.
        failures: image (path or upload) to the reason it was not enrolled.
    """

    person_id: str
    model_id: str
    template_ids: list[str] = field(default_factory=list)
    failures: dict[Path | UploadedPhoto, str] = field(default_factory=dict)


def _require_consent(uow: UnitOfWork, context: ServiceContext, person_id: str) -> None:
    uow.people.get(person_id)
    records = uow.consents.for_person(person_id)
    if consent_in_force(records, ConsentPurpose.FACE_ACCESS, context.clock.now()) is None:
        raise ConsentRequiredError(
            f"person {person_id} has no face_access consent in force: record it first "
            f"(facegate consent grant {person_id} --purpose face_access)"
        )


def enroll(
    context: ServiceContext,
    sealer: TemplateSealer,
    describer_factory: Callable[[], PhotoDescriber],
    person_id: str,
    images: Sequence[Path | UploadedPhoto],
) -> Enrollment:
    """Enroll ``person_id``'s face from ``images``; no image file is kept.

    Consent is checked before any image is read and again when the templates are
    written (it may have been withdrawn meanwhile). Images that fail (unreadable, no
    face, failed quality gate) are reported; the others are enrolled.

    Raises:
        NotFoundError: unknown person.
        ConsentRequiredError: no face_access consent in force.
        BadInputError: no image yielded a template (the first failure is named).
    """
    with context.store.unit_of_work() as uow:
        _require_consent(uow, context, person_id)
    describer = describer_factory()
    descriptors: dict[Path | UploadedPhoto, FloatArray] = {}
    failures: dict[Path | UploadedPhoto, str] = {}
    for path in images:
        try:
            descriptors[path] = describer.describe(path)
        except BadInputError as err:
            failures[path] = str(err)
    if not descriptors:
        first = next(iter(failures.values()), "no image given")
        raise BadInputError(f"nothing enrolled for person {person_id}: {first}")
    result = Enrollment(person_id, describer.model_id, failures=failures)
    _store_templates(context, sealer, result, list(descriptors.values()))
    return result


def check_photos(
    context: ServiceContext,
    describer_factory: Callable[[], PhotoDescriber],
    person_id: str,
    images: Sequence[Path | UploadedPhoto],
) -> dict[Path | UploadedPhoto, str | None]:
    """The quality gate's verdict on each image, storing nothing (feedback before enrolling).

    Consent is required first: no face is processed without it.

    Returns:
        Each image to ``None`` (it would be enrolled) or the reason it would not.

    Raises:
        NotFoundError: unknown person.
        ConsentRequiredError: no face_access consent in force.
    """
    with context.store.unit_of_work() as uow:
        _require_consent(uow, context, person_id)
    describer = describer_factory()
    verdicts: dict[Path | UploadedPhoto, str | None] = {}
    for image in images:
        try:
            describer.describe(image)
            verdicts[image] = None
        except BadInputError as err:
            verdicts[image] = str(err)
    return verdicts


def _store_templates(
    context: ServiceContext,
    sealer: TemplateSealer,
    result: Enrollment,
    descriptors: list[FloatArray],
) -> None:
    with context.store.unit_of_work() as uow:
        _require_consent(uow, context, result.person_id)
        key = uow.keys.get(result.person_id)
        if key is None:
            key = sealer.new_data_key(result.person_id)
            uow.keys.put(key)
        now = context.clock.now()
        for descriptor in descriptors:
            template_id = new_id()
            sealed = sealer.seal(key, template_id, result.model_id, descriptor)
            uow.templates.add(
                SealedTemplate(template_id, result.person_id, result.model_id, now, sealed)
            )
            result.template_ids.append(template_id)
        details: dict[str, DetailValue] = {
            "templates": len(descriptors),
            "model_id": result.model_id,
        }
        audit(uow, context, "face.enroll", result.person_id, details)
        uow.commit()
