"""``facegate liveness``: train, evaluate and run the liveness (anti-spoofing) check."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate import __version__
from facegate.cli.context import settings_from
from facegate.cli.output import ConsoleProgress, JsonFlag, emit_json, handles_errors, stderr
from facegate.domain.errors import BadInputError, DataSetError, NoFaceError

if TYPE_CHECKING:
    import numpy as np

    from facegate.config import Settings
    from facegate.domain.liveness import FaceFrame, LivenessVerdict
    from facegate.vision.engine import FaceEngine
    from facegate.vision.images import ImageLimits
    from facegate.vision.liveness.dataset import CropSet
    from facegate.vision.liveness.features import FeatureGroup
    from facegate.vision.liveness.texture_model import TextureModel

# The engine, OpenCV, FaceMesh and scikit-learn load inside the commands that use them,
# so `facegate --help` and the other commands do not pay for them.

liveness_app = typer.Typer(
    help="Liveness (presentation attack detection): train, evaluate, check.",
    no_args_is_help=True,
)

FolderOption = Annotated[Path, typer.Option(help="A folder of photos, read recursively.")]


def _crops(engine: FaceEngine, folder: Path, limits: ImageLimits) -> CropSet:
    from facegate.vision.liveness.dataset import collect_crops

    with ConsoleProgress() as progress:
        crops = collect_crops(engine, folder, limits, progress)
    for path, why in crops.skipped:
        stderr.print(f"skipped {path}: {why}", highlight=False)
    if not crops.paths:
        raise DataSetError(f"{folder}: no face found in any image")
    return crops


def _features(crops: CropSet, groups: tuple[FeatureGroup, ...]) -> np.ndarray[Any, Any]:
    import numpy as np

    from facegate.vision.liveness.features import texture_features

    return np.stack(
        [
            texture_features(crop, groups, scene)
            for crop, scene in zip(crops.crops, crops.scenes, strict=True)
        ]
    )


def _skipped_json(*sets: CropSet) -> list[dict[str, str]]:
    return [{"path": str(p), "why": why} for crops in sets for p, why in crops.skipped]


@liveness_app.command()
@handles_errors
def train(
    ctx: typer.Context,
    live: FolderOption,
    attack: FolderOption,
    out: Annotated[Path, typer.Option(help="Where to write the model (and <out>.json).")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: JsonFlag = False,
) -> None:
    """Train the texture cue on bona fide (LIVE) and attack photos; write the model."""
    import numpy as np

    from facegate.bootstrap import build_engine
    from facegate.vision.liveness.features import FEATURE_GROUPS
    from facegate.vision.liveness.texture_model import (
        manifest_path,
        save_texture_model,
        train_texture_model,
    )

    settings = settings_from(ctx)
    engine = build_engine(settings)
    live_crops = _crops(engine, live, settings.images)
    attack_crops = _crops(engine, attack, settings.images)
    features = np.concatenate([_features(c, FEATURE_GROUPS) for c in (live_crops, attack_crops)])
    labels = np.array([1] * len(live_crops.paths) + [0] * len(attack_crops.paths))
    summary = {
        "live_dir": str(live),
        "attack_dir": str(attack),
        "skipped": len(live_crops.skipped) + len(attack_crops.skipped),
        "facegate_version": __version__,
    }
    subjects = live_crops.subjects + attack_crops.subjects
    model = train_texture_model(features, labels, subjects, summary=summary, seed=seed)
    save_texture_model(model, out)
    training = model.manifest.training
    if as_json:
        emit_json(
            {
                "model": str(out),
                "manifest": str(manifest_path(out)),
                "threshold": model.threshold,
                "feature_version": model.manifest.feature_version,
                "groups": list(model.groups),
                **{key: training[key] for key in ("bona_fide", "attacks", "subjects")},
                "out_of_fold": training["out_of_fold"],
                "skipped": _skipped_json(live_crops, attack_crops),
            }
        )
        return
    oof = training["out_of_fold"]
    typer.echo(
        f"model written to {out}: threshold {model.threshold:.4f}, "
        f"{training['bona_fide']} bona fide and {training['attacks']} attack faces; "
        f"out-of-fold APCER {oof['apcer']:.2%} BPCER {oof['bpcer']:.2%}"
    )


@liveness_app.command(name="eval")
@handles_errors
def evaluate(
    ctx: typer.Context,
    live: FolderOption,
    attack: FolderOption,
    model: Annotated[
        Path | None,
        typer.Option(help="A texture model; without it the shipped single-frame cue runs."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """APCER, BPCER and ACER (ISO/IEC 30107-3) on LIVE and ATTACK photos.

    Without --model it evaluates the shipped single-frame screen-and-print cue (no
    training); with it, that texture model. Images without a face are listed as skipped
    and not counted in the rates.
    """
    from facegate.bootstrap import build_engine
    from facegate.domain.liveness import pad_rates

    settings = settings_from(ctx)
    scorer = _photo_scorer(model)
    engine = build_engine(settings)
    live_crops = _crops(engine, live, settings.images)
    attack_crops = _crops(engine, attack, settings.images)
    rates = pad_rates(scorer.scores(live_crops), scorer.scores(attack_crops), scorer.threshold)
    if as_json:
        skipped = _skipped_json(live_crops, attack_crops)
        emit_json(
            {
                **rates.as_dict(),
                "cue": scorer.cue,
                "model": str(model) if model is not None else None,
                "skipped": skipped,
            }
        )
        return
    typer.echo(
        f"{scorer.cue}: APCER {rates.apcer:.2%} ({rates.attacks} attacks)  "
        f"BPCER {rates.bpcer:.2%} ({rates.bona_fide} bona fide)  ACER {rates.acer:.2%}  "
        f"threshold {rates.threshold:.4f}"
    )


@dataclass(frozen=True, slots=True)
class _PhotoScorer:
    """Scores of one single-photo cue on a :class:`CropSet` (the texture or frame cue)."""

    cue: str
    threshold: float
    texture: TextureModel | None

    def scores(self, crops: CropSet) -> np.ndarray[Any, Any]:
        import numpy as np

        from facegate.vision.liveness.frame_cue import SHIPPED

        if self.texture is not None:
            return self.texture.scores(_features(crops, self.texture.groups))
        return np.array([SHIPPED.score(row) for row in crops.measures], dtype=np.float64)


def _photo_scorer(model: Path | None) -> _PhotoScorer:
    from facegate.vision.liveness.frame_cue import CUE_NAME, SHIPPED
    from facegate.vision.liveness.texture_model import load_texture_model

    if model is None:
        return _PhotoScorer(CUE_NAME, SHIPPED.threshold, None)
    texture = load_texture_model(model)
    return _PhotoScorer("texture", texture.threshold, texture)


def _photo_frame(settings: Settings, path: Path) -> FaceFrame:
    """The photo with its primary face."""
    from facegate.bootstrap import build_engine
    from facegate.domain.liveness import FaceFrame
    from facegate.vision.images import load_image

    image = load_image(path, settings.images)
    face = build_engine(settings).primary_face(image, describe=False)
    if face is None:
        raise NoFaceError(f"{path}: no face found")
    return FaceFrame(image, face.box, face.landmarks)


def _presentations(
    settings: Settings, path: Path, start: int, frames: int, size: int
) -> Iterator[list[FaceFrame]]:
    """Runs of ``size`` frames from ``start`` with their primary face, read as needed.

    It stops at the first frame without a face, after ``frames`` frames, or at the end.

    Raises:
        NoFaceError: no face on frame ``start``.
    """
    from facegate.bootstrap import build_engine
    from facegate.vision.liveness.video import detect_faces, read_frames

    engine = build_engine(settings)
    for first in range(start, start + frames, size):
        count = min(size, start + frames - first)
        try:
            images = read_frames(path, count, first)
        except BadInputError:
            if first == start:
                raise
            return  # the video ended on the previous run's last frame
        faces = list(itertools.takewhile(bool, detect_faces(engine, images)))
        if first == start and not faces:
            raise NoFaceError(f"{path}: no face on frame {start}")
        yield [face for face in faces if face is not None]
        if len(faces) < count:
            return


def verdict_json(verdict: LivenessVerdict) -> dict[str, Any]:
    """A verdict for JSON output: decision, fused score and each cue's result."""
    from facegate.domain.liveness import FUSED_THRESHOLD

    return {
        "live": verdict.live,
        "score": round(verdict.score, 6),
        "threshold": FUSED_THRESHOLD,
        "reason": verdict.reason.value if verdict.reason else None,
        "cues": {
            name: {
                "score": round(cue.score, 6),
                "threshold": round(cue.threshold, 6),
                "live": cue.live,
                "details": {k: round(float(v), 6) for k, v in cue.details.items()},
                "error": cue.error,
            }
            for name, cue in verdict.cues.items()
        },
        "note": verdict.note,
    }


@liveness_app.command()
@handles_errors
def check(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A photo, or a video (.mp4, .avi, ...).")],
    model: Annotated[
        Path | None,
        typer.Option(help="A texture model; without it the shipped single-frame cue runs."),
    ] = None,
    start: Annotated[int, typer.Option(min=0, help="First video frame to look at.")] = 0,
    frames: Annotated[
        int, typer.Option(min=2, help="Most video frames to look at (250 = 10 s at 25 fps).")
    ] = 250,
    as_json: JsonFlag = False,
) -> None:
    """Say whether the face in PATH is live, as the gate's default (layered) check does.

    On a photo: the shipped single-frame screen-and-print cue (with --model, the texture
    model instead). On a video: that cue and the multi-frame cue (with --model, texture
    and multi-frame: the ``fused`` mode).

    On a video it does what the gate does for a face that stays in view: from frame START
    (up to FRAMES frames, and up to the first frame without a face, timed by the video's
    frame rate) presentations of the gate's liveness_max_s seconds one after another,
    each checked on the gate's liveness schedule; live at the first check that shows
    life, refused when none did.
    """
    from facegate.vision.liveness.check import FusedLivenessCheck, run_presentations
    from facegate.vision.liveness.face_mesh import FaceMeshModel
    from facegate.vision.liveness.frame_cue import SHIPPED
    from facegate.vision.liveness.motion import MotionSettings
    from facegate.vision.liveness.texture_model import load_texture_model
    from facegate.vision.liveness.video import is_video, video_fps

    settings = settings_from(ctx)
    texture = load_texture_model(model) if model is not None else None
    frame = SHIPPED if texture is None else None
    schedule = settings.gate.liveness_schedule()
    started = perf_counter()
    if is_video(path):
        runs = itertools.chain.from_iterable(_presentations(settings, path, start, frames, 50))
        liveness = FusedLivenessCheck(texture, MotionSettings(), mesh=FaceMeshModel(), frame=frame)
        outcome = run_presentations(liveness, runs, schedule, video_fps(path))
        verdict, seen = outcome.verdict, outcome.frames_seen
        timing: dict[str, float] = {
            "frames": seen,
            "frames_seen": seen,
            "windows": outcome.windows,
            "presentations": outcome.presentations,
            "time_to_verdict_ms": round(outcome.elapsed_s * 1000.0, 1),
        }
    else:
        liveness = FusedLivenessCheck(texture, frame=frame, frame_vote=None)
        verdict, timing = liveness.check([_photo_frame(settings, path)]), {"frames": 1}
    elapsed_ms = (perf_counter() - started) * 1000.0
    if as_json:
        emit_json(
            {
                **verdict_json(verdict),
                "path": str(path),
                **timing,
                "cues_run": list(liveness.cue_names),
                "check_ms": round(elapsed_ms, 1),
            }
        )
        return
    state = "live" if verdict.live else "SPOOF SUSPECTED"
    scores = ", ".join(f"{n} {c.score:.3f}/{c.threshold:.3f}" for n, c in verdict.cues.items())
    typer.echo(f"{path}: {state} (score {verdict.score:.3f}; {scores}) [{verdict.note}]")
