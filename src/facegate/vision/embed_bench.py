"""Speed and agreement of the descriptor backends on the same real chips, in one process.

Chips come from a faces folder laid out as ``../shared/data/faces`` is: the 150x150 images
of ``johns`` (dlib's aligned chips) and ``tvcast`` are used as they are, and when more are
asked for, the primary face of the photos in ``lfw10``, ``yale`` and ``att`` is detected
(HOG, no fallback) and cut to dlib's aligned chip.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from facegate.domain.errors import BadInputError, DataSetError
from facegate.domain.faces import primary_face_index
from facegate.domain.matching import FloatArray, pairwise_distances
from facegate.ports import Embedder
from facegate.vision.alignment import CHIP_SIZE_PX, FaceAligner
from facegate.vision.detection import DetectionSettings, FaceDetector
from facegate.vision.images import RgbImage, load_image

CHIP_SETS = ("johns", "tvcast")
"""Folders of ready 150x150 chips."""
PHOTO_SETS = ("lfw10", "yale", "att")
"""Folders of photos whose primary face is aligned when more chips are needed."""
_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".gif", ".bmp"}


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in _SUFFIXES)


def _ready_chips(faces_root: Path) -> Iterator[RgbImage]:
    for name in CHIP_SETS:
        for path in _images(faces_root / name):
            with Image.open(path) as image:
                if image.size == (CHIP_SIZE_PX, CHIP_SIZE_PX):
                    yield np.asarray(image.convert("RGB"), dtype=np.uint8)


def _aligned_chips(faces_root: Path) -> Iterator[RgbImage]:
    detector = FaceDetector(DetectionSettings(fallback=None))
    aligner = FaceAligner()
    for name in PHOTO_SETS:
        for path in _images(faces_root / name):
            try:
                image = load_image(path)
            except BadInputError:
                continue  # an unreadable photo gives no chip; the count says how many came
            boxes = [d.box for d in detector.detect(image)]
            index = primary_face_index(boxes, image.shape[1], image.shape[0])
            if index is not None:
                yield aligner.chips(image, aligner.landmarks(image, [boxes[index]]))[0]


def load_chips(faces_root: Path, count: int) -> list[RgbImage]:
    """Up to ``count`` real 150x150 RGB chips from ``faces_root`` (see the module doc).

    Raises:
        DataSetError: the folder holds none.
    """
    chips: list[RgbImage] = []
    for source in (_ready_chips(faces_root), _aligned_chips(faces_root)):
        for chip in source:
            if len(chips) >= count:
                return chips
            chips.append(chip)
    if not chips:
        raise DataSetError(f"no face chips found under {faces_root}")
    return chips


def per_face_ms(
    embedder: Embedder, chips: Sequence[RgbImage], batch: int, runs: int
) -> tuple[float, FloatArray]:
    """Median milliseconds per face of ``embedder`` in batches of ``batch``, over ``runs``.

    Returns:
        ``(median ms per face, descriptors of the last run)``.
    """
    embedder.embed(chips[:batch])  # warm-up: first-call allocations are not the steady state
    times: list[float] = []
    descriptors: list[FloatArray] = []
    for _ in range(runs):
        descriptors = []
        for start in range(0, len(chips), batch):
            group = chips[start : start + batch]
            began = time.perf_counter()
            descriptors.append(embedder.embed(group))
            times.append((time.perf_counter() - began) * 1000.0 / len(group))
    return statistics.median(times), np.concatenate(descriptors)


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far two backends' descriptors of the same chips are apart.

    Attributes:
        max_abs_diff: largest absolute difference of any descriptor element.
        max_distance_diff: largest difference of any pair's euclidean distance.
        pairs: pairs of chips compared.
        decisions_identical: every pair is judged the same (distance <= threshold).
    """

    max_abs_diff: float
    max_distance_diff: float
    pairs: int
    decisions_identical: bool


def agreement(reference: FloatArray, other: FloatArray, threshold: float) -> Agreement:
    """Compare two backends' descriptors of the same chips, element-wise and pair-wise."""
    upper = np.triu_indices(len(reference), k=1)
    ref_distances = pairwise_distances(reference, reference)[upper]
    other_distances = pairwise_distances(other, other)[upper]
    return Agreement(
        max_abs_diff=float(np.max(np.abs(reference - other))) if len(reference) else 0.0,
        max_distance_diff=float(np.max(np.abs(ref_distances - other_distances), initial=0.0)),
        pairs=len(ref_distances),
        decisions_identical=bool(
            np.array_equal(ref_distances <= threshold, other_distances <= threshold)
        ),
    )
