"""Folders of bona fide and attack photos, read recursively, faces found and cropped.

The liveness commands take raw camera frames (NUAA's are 640x480 webcam frames): each
image's primary face is found with the engine's detector and cut into the 64x64 crop of
:func:`facegate.vision.liveness.features.face_crop`, with the frame's
:func:`facegate.vision.liveness.features.scene_features` and
:func:`facegate.vision.liveness.frame_measures.measure_frame` beside it. Images that cannot
be read or hold no face are listed as *skipped*, never fatal. A *subject* is the first
folder below the root (``live/0001/x.jpg`` -> ``0001``), so cross-validation can keep
people apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facegate.domain.errors import BadInputError, DataSetError
from facegate.ports import Progress
from facegate.vision.engine import FaceEngine
from facegate.vision.images import ImageLimits, load_image
from facegate.vision.liveness.features import SCENE_SIZE, face_crop, scene_features
from facegate.vision.liveness.frame_measures import MEASURES, measure_frame

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".webp", ".tif"})
"""File name endings (lower case) the liveness commands read as images."""


@dataclass(slots=True)
class CropSet:
    """Face crops of one folder.

    Attributes:
        crops: ``(n, 64, 64, 3)`` uint8 RGB crops.
        scenes: ``(n, 12)`` scene features of each crop's frame.
        measures: ``(n, 6)`` single-frame cue measures of each crop's frame.
        paths: the image each crop came from.
        subjects: each crop's subject (first folder below the root, ``""`` if none).
        skipped: ``(path, why)`` for each image without a usable face.
    """

    crops: npt.NDArray[np.uint8]
    scenes: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros((0, SCENE_SIZE), dtype=np.float64)
    )
    measures: npt.NDArray[np.float64] = field(
        default_factory=lambda: np.zeros((0, len(MEASURES)), dtype=np.float64)
    )
    paths: list[Path] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def list_images(root: Path) -> list[Path]:
    """Every image file below ``root``, sorted.

    Raises:
        DataSetError: ``root`` is not a folder or holds no image.
    """
    if not root.is_dir():
        raise DataSetError(f"{root}: not a folder")
    paths = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    paths = [p for p in paths if p.is_file()]
    if not paths:
        raise DataSetError(f"{root}: holds no image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return paths


def subject_of(path: Path, root: Path) -> str:
    """The first folder below ``root`` on the way to ``path`` (``""`` directly in it)."""
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else ""


def collect_crops(
    engine: FaceEngine,
    root: Path,
    limits: ImageLimits,
    progress: Progress | None = None,
    paths: Sequence[Path] | None = None,
) -> CropSet:
    """Find and crop the primary face of every image below ``root``.

    Args:
        engine: finds the face (its detector and landmarks).
        root: the folder, read recursively.
        limits: image size limits.
        progress: told of each image done.
        paths: a subset of the images below ``root`` (default: all of them).

    Raises:
        DataSetError: the folder holds no image.
    """
    chosen = list(paths) if paths is not None else list_images(root)
    if progress is not None:
        progress.start(len(chosen), f"faces in {root}")
    crops: list[npt.NDArray[np.uint8]] = []
    scenes: list[npt.NDArray[np.float64]] = []
    measures: list[npt.NDArray[np.float64]] = []
    result = CropSet(crops=np.zeros((0, 64, 64, 3), dtype=np.uint8))
    for path in chosen:
        try:
            image = load_image(path, limits)
            face = engine.primary_face(image, describe=False)
            if face is None:
                result.skipped.append((path, "no face"))
            else:
                crop, scene = face_crop(image, face.box), scene_features(image, face.box)
                measured = measure_frame(image, face.box)
                crops.append(crop)
                scenes.append(scene)
                measures.append(measured)
                result.paths.append(path)
                result.subjects.append(subject_of(path, root))
        except (BadInputError, ValueError) as err:
            result.skipped.append((path, str(err)))
        if progress is not None:
            progress.advance()
    if crops:
        result.crops, result.scenes = np.stack(crops), np.stack(scenes)
        result.measures = np.stack(measures)
    return result
