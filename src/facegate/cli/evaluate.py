"""Commands that measure the engine: eval pairs, eval identities, calibrate."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from facegate.cli.context import settings_from
from facegate.cli.output import ConsoleProgress, JsonFlag, emit_json, handles_errors, stderr
from facegate.domain.errors import DataSetError

if TYPE_CHECKING:
    from facegate.config import Settings
    from facegate.domain.calibration import Calibration
    from facegate.services.evaluation import ScoreSets
    from facegate.vision.photos import EnginePhotoDescriber

DEFAULT_WORKERS = max(1, min(os.cpu_count() or 1, 8))
"""Describing processes for evaluations: one per core, at most 8."""

eval_app = typer.Typer(help="Measure error rates on your own data (ISO/IEC 19795-1 terms).")

QualityGateFlag = Annotated[
    bool,
    typer.Option(
        "--quality-gate/--no-quality-gate",
        help="Count faces that fail the quality gate as failures to acquire.",
    ),
]
ThresholdOption = Annotated[
    float | None,
    typer.Option(help="Distance threshold to report at; default: calibration, else 0.57."),
]


class Impostors(StrEnum):
    """Which pairs of different people are compared."""

    ALL = "all"
    SAME_SET = "same_set"


ImpostorsOption = Annotated[
    Impostors,
    typer.Option(
        help="all: every two people; same_set: only people whose folders share a parent "
        "(pooled sets from different cameras or archives)."
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(min=1, help="Processes that describe images in parallel (default: one per core)."),
]
DetOption = Annotated[Path | None, typer.Option("--det", help="Where to write the DET curve PNG.")]


def _describer(settings: Settings, quality_gate: bool, workers: int) -> EnginePhotoDescriber:
    """A describer for ``workers`` processes: one ONNX Runtime thread each unless set."""
    from facegate.bootstrap import build_photo_describer  # the engine, only here

    if workers > 1 and settings.embedding.threads is None:
        embedding = replace(settings.embedding, threads=1)
        settings = settings.model_copy(update={"embedding": embedding})
    return build_photo_describer(settings, require_quality=quality_gate)


def _describer_and_threshold(
    settings: Settings, quality_gate: bool, threshold: float | None, workers: int
) -> tuple[EnginePhotoDescriber, float, str]:
    describer = _describer(settings, quality_gate, workers)
    policy, source = settings.match_policy(describer.model_id)
    if threshold is not None:
        return describer, threshold, "option"
    return describer, policy.threshold, source


def _maybe_plot(scores: ScoreSets, path: Path | None, title: str, threshold: float) -> str | None:
    if path is None or not scores.complete:
        return None
    from facegate.cli.det_plot import write_det_png

    write_det_png(scores.genuine, scores.impostor, path, title, threshold)
    return str(path)


def _print_summary(report: dict[str, Any], keys: list[str]) -> None:
    for key in keys:
        typer.echo(f"{key:>26}: {report[key]}")
    for failure in report.get("failed_images", []):
        stderr.print(f"[yellow]failed:[/] {failure['path']}: {failure['reason']}", highlight=False)


@eval_app.command("pairs")
@handles_errors
def eval_pairs(
    ctx: typer.Context,
    pairs: Annotated[
        Path, typer.Option("--pairs", help="LFW pairs.txt or file_x,file_y,decision CSV.")
    ],
    root: Annotated[Path, typer.Option("--root", help="Folder the pair file's paths are under.")],
    threshold: ThresholdOption = None,
    quality_gate: QualityGateFlag = False,
    det: DetOption = None,
    workers: WorkersOption = DEFAULT_WORKERS,
    as_json: JsonFlag = False,
) -> None:
    """Accuracy, FMR, FNMR and EER on a pair protocol; failures to acquire count as errors."""
    from facegate.services.evaluation import evaluate_pairs
    from facegate.services.pairs import read_pairs

    settings = settings_from(ctx)
    specs = read_pairs(pairs, root)
    describer, limit, source = _describer_and_threshold(settings, quality_gate, threshold, workers)
    with ConsoleProgress() as progress:
        report = evaluate_pairs(specs, describer, limit, progress, workers=workers)
    payload = report.as_dict() | {"threshold_source": source, "model": describer.model_id}
    payload["det_png"] = _maybe_plot(report.scores, det, f"DET: {pairs.name}", limit)
    if as_json:
        emit_json(payload)
        return
    _print_summary(
        payload,
        [
            "pairs",
            "accuracy",
            "threshold",
            "best_threshold",
            "best_threshold_accuracy",
            "fmr",
            "fnmr",
            "eer",
            "failures_to_acquire",
        ],
    )


@eval_app.command("identities")
@handles_errors
def eval_identities(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="A folder with one sub-folder per person.")],
    seed: Annotated[int, typer.Option(help="Seed of the open-set enrolment split.")] = 0,
    threshold: ThresholdOption = None,
    quality_gate: QualityGateFlag = False,
    impostors: ImpostorsOption = Impostors.ALL,
    det: DetOption = None,
    workers: WorkersOption = DEFAULT_WORKERS,
    as_json: JsonFlag = False,
) -> None:
    """Verification and open-set identification error rates on a folder-per-person set."""
    from facegate.services.evaluation import evaluate_identities

    settings = settings_from(ctx)
    describer, limit, source = _describer_and_threshold(settings, quality_gate, threshold, workers)
    with ConsoleProgress() as progress:
        report = evaluate_identities(
            directory, describer, limit, seed, progress, impostors.value, workers=workers
        )
    payload = report.as_dict() | {
        "threshold_source": source,
        "model": describer.model_id,
        "impostors": impostors.value,
    }
    det_path = det if det is not None else Path(f"{directory.name or 'set'}.det.png")
    payload["det_png"] = _maybe_plot(report.scores, det_path, f"DET: {directory}", limit)
    if as_json:
        emit_json(payload)
        return
    _print_summary(
        payload,
        [
            "people",
            "images",
            "genuine_comparisons",
            "impostor_comparisons",
            "threshold",
            "fmr",
            "fnmr",
            "fnmr_at_fmr",
            "eer",
            "fte",
            "fta",
            "fnir_at_fpir",
            "det_png",
        ],
    )


def _calibration_payload(calibration: Calibration, written_to: Path) -> dict[str, Any]:
    return {
        "threshold": round(calibration.threshold, 6),
        "fmr": calibration.fmr,
        "fnmr": round(calibration.fnmr, 6),
        "comparisons": calibration.impostor_comparisons,
        "genuine_comparisons": calibration.genuine_comparisons,
        "fmr_upper_95": round(calibration.fmr_upper_95, 8),
        "supported": calibration.supported,
        "impostor_curve_comparisons": (
            None if calibration.impostor_curve is None else calibration.impostor_curve.comparisons
        ),
        "written_to": str(written_to),
    }


@handles_errors
def calibrate(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="A folder with one sub-folder per person.")],
    target_fmr: Annotated[float, typer.Option("--target-fmr", help="False-match rate to meet.")],
    quality_gate: QualityGateFlag = False,
    impostors: ImpostorsOption = Impostors.ALL,
    force: Annotated[
        bool, typer.Option(help="Write the threshold even if the set is too small to claim it.")
    ] = False,
    workers: WorkersOption = DEFAULT_WORKERS,
    as_json: JsonFlag = False,
) -> None:
    """Find the threshold that meets a target FMR on DIRECTORY and write it to the settings."""
    from facegate.config import write_calibration
    from facegate.domain.calibration import calibrate_threshold
    from facegate.services.evaluation import identity_scores, impostor_curve

    settings = settings_from(ctx)
    describer = _describer(settings, quality_gate, workers)
    with ConsoleProgress() as progress:
        people, acquisition, scores = identity_scores(
            directory, describer, progress, impostors.value, workers=workers
        )
    source = str(directory.resolve())
    by_person = {
        person: [acquisition.descriptors[p] for p in paths if p in acquisition.descriptors]
        for person, paths in people.items()
    }
    curve = impostor_curve(by_person, impostors=impostors.value, source=f"calibrate {source}")
    calibration = calibrate_threshold(
        scores.genuine,
        scores.impostor,
        target_fmr,
        model_id=describer.model_id,
        source=source,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        impostor_curve=curve,
    )
    if not calibration.supported and not force:
        raise DataSetError(
            f"{calibration.impostor_comparisons} impostor comparisons cannot support an FMR of "
            f"{target_fmr:g}: at least {int(3 / target_fmr + 0.999)} are needed (rule of 3); "
            "use a larger set, a higher target, or --force"
        )
    write_calibration(settings.calibration_path, calibration)
    payload = _calibration_payload(calibration, settings.calibration_path)
    if as_json:
        emit_json(payload)
        return
    typer.echo(
        f"threshold {calibration.threshold:.4f}: FMR {calibration.fmr:.2e} "
        f"(95% upper bound {calibration.fmr_upper_95:.2e}) over {calibration.impostor_comparisons} "
        f"impostor comparisons, FNMR {calibration.fnmr:.4f}; written to {settings.calibration_path}"
    )
