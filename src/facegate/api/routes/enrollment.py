"""Face enrollment from uploaded photos: quality feedback first, then templates.

Consent is checked before any photo is processed; no photo is stored.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from facegate.http.deps import Deps, Staff, context_for
from facegate.http.uploads import read_photos
from facegate.services.enrollment import DuplicateCheck, check_photos, enroll

router = APIRouter(prefix="/people/{person_id}", tags=["enrollment"])

Files = Annotated[list[UploadFile], File(description="Photos of the person, one face each.")]
AllowDuplicate = Annotated[
    bool,
    Form(
        description="Enroll even if a photo matches another person's template within the "
        "duplicate threshold (twins, a look-alike the operator checked); audited. Without "
        "it such an enrolment is refused with 409."
    ),
]


class PhotoVerdict(BaseModel):
    """Whether one photo would give a template, and if not why."""

    name: str
    accepted: bool
    reason: str | None


class EnrollmentPublic(BaseModel):
    """What an enrollment stored."""

    person_id: str
    model: str
    enrolled: int
    template_ids: list[str]
    failures: list[PhotoVerdict]


@router.post("/photos/check")
async def check(deps: Deps, principal: Staff, person_id: str, files: Files) -> list[PhotoVerdict]:
    """Run the quality gate on photos without storing anything (feedback for the user)."""
    settings = deps.settings
    photos = await read_photos(files, settings.images, settings.server.max_upload_bytes)
    context = context_for(deps, principal)
    verdicts = await run_in_threadpool(check_photos, context, deps.describer, person_id, photos)
    return [
        PhotoVerdict(name=str(photo), accepted=reason is None, reason=reason)
        for photo, reason in verdicts.items()
    ]


@router.post("/enrollment", status_code=201)
async def enroll_photos(
    deps: Deps,
    principal: Staff,
    person_id: str,
    files: Files,
    allow_duplicate: AllowDuplicate = False,
) -> EnrollmentPublic:
    """Enroll the photos that pass the quality gate (422 when none does).

    409 when a photo matches another person within the duplicate threshold and
    ``allow_duplicate`` is not set; nothing is stored then.
    """
    settings = deps.settings
    photos = await read_photos(files, settings.images, settings.server.max_upload_bytes)
    check = DuplicateCheck(settings.matching.duplicate_threshold, allow_duplicate)
    context, sealer = context_for(deps, principal), deps.sealer()
    result = await run_in_threadpool(
        enroll, context, sealer, deps.describer, person_id, photos, check
    )
    return EnrollmentPublic(
        person_id=result.person_id,
        model=result.model_id,
        enrolled=len(result.template_ids),
        template_ids=result.template_ids,
        failures=[
            PhotoVerdict(name=str(p), accepted=False, reason=r) for p, r in result.failures.items()
        ],
    )
