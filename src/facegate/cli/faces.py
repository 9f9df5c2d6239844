"""Commands that run the face engine on photos: detect, embed, verify."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import JsonFlag, emit_json, handles_errors
from facegate.vision.detection import DetectorModel

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.vision.engine import Face

ImageArg = Annotated[
    Path, typer.Argument(help="An image file (JPEG, PNG, GIF, BMP, PGM, WebP, TIFF).")
]
DetectorOption = Annotated[
    DetectorModel | None,
    typer.Option(
        "--detector",
        help="Face detector: hog (default), cnn (MMOD, slower), blazeface or blazeface_full"
        " (the camera-stream detectors, boxes mapped to HOG's).",
    ),
]


class Backend(StrEnum):
    """Descriptor backends: dlib itself, or facegate's ONNX conversion in ONNX Runtime."""

    DLIB = "dlib"
    ONNX = "onnx"


def _with_detector(settings: Settings, detector: DetectorModel | None) -> Settings:
    if detector is None:
        return settings
    detection = replace(settings.detection, model=detector)
    return settings.model_copy(update={"detection": detection})


def _with_backend(settings: Settings, backend: Backend | None) -> Settings:
    if backend is None:
        return settings
    embedding = replace(settings.embedding, backend=backend.value)
    return settings.model_copy(update={"embedding": embedding})


def face_json(face: Face, with_descriptor: bool = False) -> dict[str, Any]:
    """One face for JSON output: box, score, landmarks, quality and, if asked, descriptor."""
    payload: dict[str, Any] = {
        "box": face.box.as_list(),
        "score": round(face.detection.score, 4),
        "detector": face.detection.detector.value,
        "landmarks": face.landmarks.as_lists(),
        "quality": {
            **face.quality.as_dict(),
            "passed": face.verdict.passed,
            "failures": list(face.verdict.failures),
        },
    }
    if with_descriptor and face.descriptor is not None:
        payload["descriptor"] = [round(float(x), 8) for x in face.descriptor]
    return payload


def register(app: typer.Typer) -> None:
    """Add the photo commands to ``app``."""
    app.command()(detect)
    app.command()(embed)
    app.command(name="verify")(verify_command)


@handles_errors
def detect(
    ctx: typer.Context, image: ImageArg, detector: DetectorOption = None, as_json: JsonFlag = False
) -> None:
    """Find the faces in IMAGE: boxes [left, top, right, bottom], landmarks and quality."""
    from facegate.bootstrap import build_engine
    from facegate.vision.images import load_image

    settings = _with_detector(settings_from(ctx), detector)
    pixels = load_image(image, settings.images)
    faces = build_engine(settings).analyze(pixels, describe=False)
    if as_json:
        height, width = pixels.shape[:2]
        emit_json(
            {
                "image": str(image),
                "width": width,
                "height": height,
                "faces": [face_json(f) for f in faces],
            }
        )
        return
    typer.echo(f"{image}: {len(faces)} face(s)")
    for face in faces:
        verdict = (
            "ok" if face.verdict.passed else "low quality: " + ", ".join(face.verdict.failures)
        )
        typer.echo(
            f"  box {face.box.as_list()}  eyes {face.quality.inter_eye_distance_px:.0f} px  "
            f"sharpness {face.quality.sharpness:.0f}  {verdict}"
        )


@handles_errors
def embed(
    ctx: typer.Context,
    image: ImageArg,
    backend: Annotated[
        Backend | None,
        typer.Option(help="Descriptor backend; default: onnx when installed, else dlib."),
    ] = None,
    detector: DetectorOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Compute the 128-D descriptor of every face in IMAGE."""
    from facegate.bootstrap import build_engine
    from facegate.vision.engine import descriptor_of
    from facegate.vision.images import load_image

    settings = _with_backend(_with_detector(settings_from(ctx), detector), backend)
    pixels = load_image(image, settings.images)
    engine = build_engine(settings)
    faces = engine.analyze(pixels)
    if as_json:
        emit_json(
            {
                "image": str(image),
                "model": engine.model_id,
                "backend": engine.embedder.backend,
                "faces": [face_json(f, with_descriptor=True) for f in faces],
            }
        )
        return
    typer.echo(
        f"{image}: {len(faces)} face(s), model {engine.model_id} ({engine.embedder.backend})"
    )
    for face in faces:
        preview = " ".join(f"{x:+.3f}" for x in descriptor_of(face)[:6])
        typer.echo(f"  box {face.box.as_list()}  descriptor [{preview} ...]")


@handles_errors
def verify_command(
    ctx: typer.Context,
    image_a: ImageArg,
    image_b: ImageArg,
    threshold: Annotated[
        float | None, typer.Option(help="Distance threshold; default: calibration, else 0.57.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Say whether IMAGE_A and IMAGE_B show the same person (their primary faces)."""
    from facegate.bootstrap import build_photo_describer
    from facegate.domain.matching import verify
    from facegate.vision.engine import descriptor_of

    settings = settings_from(ctx)
    describer = build_photo_describer(settings, require_quality=False)
    policy, source = settings.match_policy(describer.model_id)
    limit = policy.threshold if threshold is None else threshold
    face_a, face_b = describer.primary_face(image_a), describer.primary_face(image_b)
    result = verify(descriptor_of(face_a), descriptor_of(face_b), limit)
    if as_json:
        emit_json(
            {
                "distance": round(result.distance, 6),
                "threshold": limit,
                "threshold_source": "option" if threshold is not None else source,
                "same": result.same,
                "box_a": face_a.box.as_list(),
                "box_b": face_b.box.as_list(),
                "model": describer.model_id,
            }
        )
        return
    verdict = "same person" if result.same else "different people"
    typer.echo(f"{verdict}: distance {result.distance:.4f} (threshold {limit:.4f})")
