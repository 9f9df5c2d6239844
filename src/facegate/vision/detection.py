"""Face detection: dlib's HOG detector (default), its MMOD CNN, or BlazeFace for streams.

Small images are upsampled and large ones downscaled to a working resolution chosen
from the image's size alone, so the same settings serve 92x112 archive photos, 640x480
door frames and 12 MP phone photos; boxes are always mapped back to original pixels.
A fallback detector runs only when the primary one finds nothing.

BlazeFace (:mod:`facegate.vision.blazeface`, 1-3 CPU ms per VGA frame against HOG's
15-60 ms) sizes the frame to its own input and needs no working resolution; its boxes are
mapped to the boxes HOG draws, which dlib's landmark model and chip expect. Gates use it
on camera streams (``FACEGATE_GATE__DETECTOR``); photos (enrolment) keep HOG.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from PIL import Image

from facegate.domain.faces import Box
from facegate.vision.images import RgbImage
from facegate.vision.models import ModelName, import_dlib, model_path


class DetectorModel(StrEnum):
    """The available face detectors."""

    HOG = "hog"
    CNN = "cnn"
    BLAZEFACE = "blazeface"
    BLAZEFACE_FULL = "blazeface_full"


BLAZE_RANGES = {DetectorModel.BLAZEFACE: "short", DetectorModel.BLAZEFACE_FULL: "full"}
"""The BlazeFace model behind each BlazeFace detector name."""


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """How faces are found.

    Attributes:
        model: the primary detector (``hog``: about 15 ms at 640x480 here; ``cnn``:
            MMOD, more robust to pose and light, about 1 s at 640x480 on 2 cores;
            ``blazeface`` / ``blazeface_full``: BlazeFace short / full range, 1-3 / 5-25 CPU ms,
            for camera streams, see :mod:`facegate.vision.blazeface`).
        fallback: a detector tried only when the primary finds no face (``None`` for
            none); for photos the CNN rescues faces HOG misses, a door camera that sees a
            stream of empty frames should set ``None``.
        min_working_side_px: images whose shorter side is below this are upsampled 2x
            at a time until it is reached (default 480, a VGA frame's shorter side: a
            640x480 frame is not upsampled, a 500x375 or 250x250 photo once, a 92x112
            photo twice). HOG finds faces of about 80 pixels and more at its working
            resolution, so one step finds 40-pixel faces of the original.
        max_upsample: most 2x upsampling steps (default 2).
        max_working_side_px: images whose longer side exceeds this are downscaled to it
            before detection (default 1280 pixels).
        cnn_max_working_side_px: the same bound for the CNN detector (default 640
            pixels): it sees faces of about 40 pixels, so a 640-pixel photo still shows
            any face an enrolment photo holds, and its cost and memory grow with the
            area (a blank 1280x1280 photo took about 25 s and 2 GB on 2 cores).
        hog_adjust_threshold: added to the HOG detector's decision threshold (default 0;
            negative finds more faces and more false ones).
        cnn_min_confidence: least MMOD confidence kept (default 0.0).
        threads: TFLite threads of a BlazeFace interpreter (default 1).
    """

    model: DetectorModel = DetectorModel.HOG
    fallback: DetectorModel | None = DetectorModel.CNN
    min_working_side_px: int = 480
    max_upsample: int = 2
    max_working_side_px: int = 1280
    cnn_max_working_side_px: int = 640
    hog_adjust_threshold: float = 0.0
    cnn_min_confidence: float = 0.0
    threads: int = 1


@dataclass(frozen=True, slots=True)
class Detection:
    """One detected face: its box in original pixels, the detector's score and name."""

    box: Box
    score: float
    detector: DetectorModel


def upsample_steps(width: int, height: int, settings: DetectionSettings) -> int:
    """How many 2x upsampling steps bring the shorter side to ``min_working_side_px``."""
    shorter, steps = min(width, height), 0
    while shorter * (2**steps) < settings.min_working_side_px and steps < settings.max_upsample:
        steps += 1
    return steps


class FaceDetector:
    """The detectors of :class:`DetectionSettings`, with its working-resolution policy.

    The models are loaded on first use of each, not at construction. A BlazeFace detector
    may be shared by threads (one interpreter per thread); dlib's may not.
    """

    def __init__(self, settings: DetectionSettings) -> None:
        self.settings = settings
        self._dlib = import_dlib()
        self._hog: Any = None
        self._cnn: Any = None
        self._blaze: dict[str, Any] = {}  # BlazeFaceDetector by range, loaded on first use

    def detect(self, image: RgbImage) -> list[Detection]:
        """Find faces in ``image``; boxes are in its pixels, best score first."""
        found = self._detect_with(self.settings.model, image)
        fallback = self.settings.fallback
        if not found and fallback is not None and fallback != self.settings.model:
            found = self._detect_with(fallback, image)
        return sorted(found, key=lambda d: d.score, reverse=True)

    def _detect_with(self, model: DetectorModel, image: RgbImage) -> list[Detection]:
        if model in BLAZE_RANGES:
            return self._run_blaze(model, image)
        max_side = self.settings.max_working_side_px
        if model is DetectorModel.CNN:
            max_side = min(max_side, self.settings.cnn_max_working_side_px)
        working, scale = _downscale(image, max_side)
        steps = upsample_steps(working.shape[1], working.shape[0], self.settings)
        if model is DetectorModel.HOG:
            raw = self._run_hog(working, steps)
        else:
            # The CNN sees faces about half the size HOG needs, so it upsamples once less.
            raw = self._run_cnn(working, max(steps - 1, 0))
        return [
            Detection(_scale_box(rect, 1.0 / scale), score, model)
            for rect, score in raw
            if rect.width() > 0 and rect.height() > 0
        ]

    def _run_hog(self, image: RgbImage, steps: int) -> list[tuple[Any, float]]:
        if self._hog is None:
            self._hog = self._dlib.get_frontal_face_detector()
        rects, scores, _ = self._hog.run(image, steps, self.settings.hog_adjust_threshold)
        return list(zip(rects, (float(s) for s in scores), strict=True))

    def _run_cnn(self, image: RgbImage, steps: int) -> list[tuple[Any, float]]:
        if self._cnn is None:
            path = model_path(ModelName.MMOD_DETECTOR)
            self._cnn = self._dlib.cnn_face_detection_model_v1(str(path))
        found = self._cnn(image, steps)
        return [
            (d.rect, float(d.confidence))
            for d in found
            if d.confidence >= self.settings.cnn_min_confidence
        ]

    def _run_blaze(self, model: DetectorModel, image: RgbImage) -> list[Detection]:
        # Imported here: BlazeFace brings OpenCV and TFLite, which photo tools never need.
        from facegate.vision.blazeface import TO_DLIB, BlazeFaceDetector, BlazeRange, to_dlib_box

        which = BlazeRange(BLAZE_RANGES[model])
        if which not in self._blaze:
            tiles = which is BlazeRange.FULL  # the lanes' model: far faces in wide frames
            self._blaze[which] = BlazeFaceDetector(which, self.settings.threads, tiles)
        mapping = TO_DLIB[which]
        return [
            Detection(to_dlib_box(found, mapping), found.score, model)
            for found in self._blaze[which].detect(image)
        ]


def _downscale(image: RgbImage, max_side_px: int) -> tuple[RgbImage, float]:
    height, width = image.shape[:2]
    longer = max(height, width)
    if longer <= max_side_px:
        return image, 1.0
    scale = max_side_px / longer
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.uint8), scale


def _scale_box(rect: Any, factor: float) -> Box:
    return Box(
        left=round(rect.left() * factor),
        top=round(rect.top() * factor),
        right=round((rect.right() + 1) * factor),
        bottom=round((rect.bottom() + 1) * factor),
    )
