"""Enroll a face: consent first, then the quality gate, the duplicate check, sealed templates.

The duplicate check compares every new descriptor with every stored template of the same
model that belongs to someone else, in the transaction that stores the new templates. A
match within the duplicate threshold (stricter than the access threshold) is refused with
:class:`DuplicateFaceError` (exit 3, HTTP 409) unless the caller allows it explicitly
(twins, a look-alike the operator has checked); an allowed duplicate is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from facegate.domain.audit import DetailValue
from facegate.domain.credentials import SealedTemplate
from facegate.domain.errors import BadInputError, ConsentRequiredError, DuplicateFaceError
from facegate.domain.faces import UploadedPhoto
from facegate.domain.matching import (
    DEFAULT_DUPLICATE_THRESHOLD,
    FloatArray,
    as_descriptor_matrix,
    pairwise_distances,
)
from facegate.domain.people import ConsentPurpose, consent_in_force
from facegate.ports import PhotoDescriber, TemplateSealer, UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id
from facegate.services.template_cache import open_templates


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


@dataclass(frozen=True, slots=True)
class DuplicateCheck:
    """How enrolment treats a face that matches someone else's template.

    Attributes:
        threshold: largest euclidean distance to another person's template that counts
            as a duplicate (default 0.35; 0 or less turns the check off).
        allow: enrol anyway (the operator checked: twins, a look-alike); audited.
    """

    threshold: float = DEFAULT_DUPLICATE_THRESHOLD
    allow: bool = False


@dataclass(frozen=True, slots=True)
class Nearest:
    """The other person closest to the new descriptors: who, how close, which image."""

    person_id: str
    distance: float
    image: Path | UploadedPhoto


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
    duplicates: DuplicateCheck | None = None,
) -> Enrollment:
    """Enroll ``person_id``'s face from ``images``; no image file is kept.

    Consent is checked before any image is read and again when the templates are
    written (it may have been withdrawn meanwhile). Images that fail (unreadable, no
    face, failed quality gate) are reported; the others are enrolled, unless one of them
    matches another person (see :class:`DuplicateCheck`; the default checks).

    Raises:
        NotFoundError: unknown person.
        ConsentRequiredError: no face_access consent in force.
        BadInputError: no image yielded a template (the first failure is named).
        DuplicateFaceError: a photo matches another person's template within the
            duplicate threshold and ``duplicates.allow`` is not set; nothing is stored.
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
    _store_templates(context, sealer, result, descriptors, duplicates or DuplicateCheck())
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


def nearest_other_person(
    uow: UnitOfWork,
    sealer: TemplateSealer,
    model_id: str,
    person_id: str,
    descriptors: dict[Path | UploadedPhoto, FloatArray],
) -> tuple[Nearest | None, int]:
    """The other person whose stored template is closest to any of ``descriptors``.

    Templates the process decrypted already for a snapshot (the server's
    :data:`facegate.services.template_cache.TEMPLATES`) are not decrypted again; the others
    are opened in batches, one data key unwrapped per person (at 25,000 residents an
    enrolment opened 75,000 templates one by one, with a key read per person). Those of
    erased people (no data key) cannot be opened, nor used anywhere: left out.

    Returns:
        The nearest (``None`` when no one else has a template of ``model_id``) and how
        many templates were compared.
    """
    index = [(t, p) for t, p in uow.reads.template_index(model_id) if p != person_id]
    owners, rows = open_templates(uow, sealer, model_id, index)
    if not owners:
        return None, 0
    images = list(descriptors)
    distances = pairwise_distances(as_descriptor_matrix(list(descriptors.values())), rows)
    image_index, row_index = divmod(int(distances.argmin()), distances.shape[1])
    nearest = Nearest(
        owners[row_index], float(distances[image_index, row_index]), images[image_index]
    )
    return nearest, len(rows)


def _duplicate_details(
    uow: UnitOfWork,
    sealer: TemplateSealer,
    result: Enrollment,
    descriptors: dict[Path | UploadedPhoto, FloatArray],
    check: DuplicateCheck,
) -> dict[str, DetailValue]:
    """Run the duplicate check; the audit details it adds (raises when refused)."""
    if check.threshold <= 0.0:
        return {"duplicate_check": "off"}
    nearest, compared = nearest_other_person(
        uow, sealer, result.model_id, result.person_id, descriptors
    )
    details: dict[str, DetailValue] = {"duplicate_check_templates": compared}
    if nearest is None or not nearest.distance <= check.threshold:
        return details
    if not check.allow:
        raise DuplicateFaceError(
            f"not enrolled: the face in {nearest.image} matches person {nearest.person_id} "
            f"(distance {nearest.distance:.3f} <= duplicate threshold {check.threshold:.2f}); "
            "the same person enrolled twice? If they are different people (twins, a "
            "look-alike you checked), enrol again allowing the duplicate (audited)",
            nearest.person_id,
            nearest.distance,
        )
    return details | {
        "duplicate_allowed": True,
        "duplicate_of": nearest.person_id,
        "duplicate_distance": f"{nearest.distance:.4f}",
    }


def _store_templates(
    context: ServiceContext,
    sealer: TemplateSealer,
    result: Enrollment,
    images: dict[Path | UploadedPhoto, FloatArray],
    check: DuplicateCheck,
) -> None:
    with context.store.unit_of_work() as uow:
        store_templates_in(uow, context, sealer, result, images, check)
        uow.commit()


def store_templates_in(
    uow: UnitOfWork,
    context: ServiceContext,
    sealer: TemplateSealer,
    result: Enrollment,
    images: dict[Path | UploadedPhoto, FloatArray],
    check: DuplicateCheck,
) -> None:
    """Seal and store the descriptors of ``images`` for ``result``'s person inside ``uow``.

    Consent in force and the duplicate check first; the caller commits (one enrolment,
    or a bulk import's batch).

    Raises:
        ConsentRequiredError: no face_access consent in force.
        DuplicateFaceError: see :func:`enroll`.
    """
    descriptors = list(images.values())
    _require_consent(uow, context, result.person_id)
    duplicate = _duplicate_details(uow, sealer, result, images, check)
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
        **duplicate,
    }
    audit(uow, context, "face.enroll", result.person_id, details)
