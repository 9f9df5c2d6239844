"""Face commands on the site's data: enroll a person's face, identify faces in a photo."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.cli.site_context import opened_site

if TYPE_CHECKING:
    from facegate.ports import PhotoDescriber

ImagesArg = Annotated[list[Path], typer.Argument(help="Photos of the person, one face each.")]


def register(app: typer.Typer) -> None:
    """Add the face data commands to ``app``."""
    app.command(name="enroll")(enroll_command)
    app.command(name="identify")(identify_command)


@handles_errors
def enroll_command(
    ctx: typer.Context,
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    images: ImagesArg,
    allow_duplicate: Annotated[
        bool,
        typer.Option(
            "--allow-duplicate",
            help="Enroll even if a photo matches another person (twins, a checked "
            "look-alike); audited. Without it such an enrolment is refused (exit 3).",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Enroll a person's face (needs their face_access consent); no image is stored.

    A photo within the duplicate threshold (FACEGATE_MATCHING__DUPLICATE_THRESHOLD, default
    0.35) of another person's template is refused unless --allow-duplicate is given.
    """
    from facegate.bootstrap import build_photo_describer, build_sealer
    from facegate.services.enrollment import DuplicateCheck, enroll

    with opened_site(ctx) as (settings, context):
        sealer = build_sealer(settings)

        def describer() -> PhotoDescriber:
            return build_photo_describer(settings, require_quality=True)

        check = DuplicateCheck(settings.matching.duplicate_threshold, allow_duplicate)
        result = enroll(context, sealer, describer, person_id, images, check)
    failures = [{"path": str(p), "reason": r} for p, r in result.failures.items()]
    if as_json:
        emit_json(
            {
                "person_id": result.person_id,
                "model": result.model_id,
                "enrolled": len(result.template_ids),
                "template_ids": result.template_ids,
                "failures": failures,
            }
        )
        return
    typer.echo(f"{len(result.template_ids)} template(s) enrolled for {person_id}")
    for failure in failures:
        typer.echo(f"  not enrolled: {failure['path']}: {failure['reason']}", err=True)


def _finite(value: float) -> float | None:
    """``value``, or ``None`` when not finite (-inf: no 1:N threshold meets the target)."""
    return value if math.isfinite(value) else None


@handles_errors
def identify_command(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(help="A photo with one or more faces.")],
    as_json: JsonFlag = False,
) -> None:
    """Say who each face in IMAGE is, or "unknown" (the gallery read is audited)."""
    from facegate.bootstrap import build_engine, build_sealer
    from facegate.services.identification import identify_probes, load_gallery
    from facegate.vision.images import load_image

    with opened_site(ctx) as (settings, context):
        sealer = build_sealer(settings)
        pixels = load_image(image, settings.images)
        engine = build_engine(settings)
        faces = engine.analyze(pixels)
        policy, source = settings.match_policy(engine.model_id)
        gallery = load_gallery(context, sealer, engine.model_id)
    probes = [f.descriptor if f.verdict.passed else None for f in faces]
    results = identify_probes(gallery, probes, policy)
    rows: list[dict[str, Any]] = [
        {
            "box": face.box.as_list(),
            "person_id": found.person_id,
            "distance": None if found.distance is None else round(found.distance, 6),
            "decision": found.decision,
            "reason": found.reason.value,
        }
        for face, found in zip(faces, results, strict=True)
    ]
    if as_json:
        emit_json(
            {
                "image": str(image),
                "model": engine.model_id,
                "threshold": _finite(policy.identification_threshold(gallery.people_count())),
                "threshold_source": source,
                "verification_threshold": policy.threshold,
                "gallery_people": gallery.people_count(),
                "max_fpir": policy.max_fpir,
                "faces": rows,
            }
        )
        return
    typer.echo(f"{image}: {len(rows)} face(s)")
    for row in rows:
        typer.echo(f"  {row['box']}  {row['decision']}  {row['person_id'] or ''}  {row['reason']}")
