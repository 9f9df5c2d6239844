"""The face engine: from an RGB image to faces with landmarks, quality and descriptors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import (
    Box,
    FaceQuality,
    FivePointLandmarks,
    QualityThresholds,
    QualityVerdict,
    assess_quality,
    primary_face_index,
)
from facegate.domain.matching import FloatArray
from facegate.timing import span
from facegate.vision.alignment import FaceAligner, to_landmarks
from facegate.vision.detection import Detection, DetectionSettings, FaceDetector
from facegate.vision.embedding import DlibEmbedder, EmbeddingSettings
from facegate.vision.images import RgbImage
from facegate.vision.onnx_embedding import OnnxEmbedder, resolve_backend
from facegate.vision.quality import measure_quality


@dataclass(frozen=True, slots=True)
class Face:
    """One face found in an image.

    Attributes:
        detection: box (original pixels), detector score and detector name.
        landmarks: 5-point landmarks in original pixels.
        quality: the quality measures.
        verdict: the quality gate's verdict.
        chip: the aligned 150x150 RGB chip (kept in memory only, never stored).
        descriptor: the 128-D descriptor, when it was asked for.
    """

    detection: Detection
    landmarks: FivePointLandmarks
    quality: FaceQuality
    verdict: QualityVerdict
    chip: RgbImage = field(repr=False)
    descriptor: FloatArray | None = field(default=None, repr=False)

    @property
    def box(self) -> Box:
        """The face box in original pixels."""
        return self.detection.box


@dataclass(frozen=True, slots=True)
class EngineSpec:
    """Everything that defines a face engine; small and picklable, unlike the engine.

    Attributes:
        detection: how faces are found.
        embedding: how descriptors are computed.
        quality: the quality gate applied to every face.
        cache_dir: where the ONNX backend keeps its converted model (``Settings.cache_dir``);
            ``None`` allows the dlib backend only.
    """

    detection: DetectionSettings = field(default_factory=DetectionSettings)
    embedding: EmbeddingSettings = field(default_factory=EmbeddingSettings)
    quality: QualityThresholds = field(default_factory=QualityThresholds)
    cache_dir: Path | None = None


def build_embedder(
    settings: EmbeddingSettings, cache_dir: Path | None
) -> DlibEmbedder | OnnxEmbedder:
    """The descriptor backend ``settings`` choose (see :class:`EmbeddingSettings`).

    Raises:
        ModelUnavailableError: the chosen backend is not installed, or ONNX without a
            cache directory.
    """
    if resolve_backend(settings.backend) == "dlib":
        return DlibEmbedder(flip_augment=settings.flip_augment)
    if cache_dir is None:
        raise ModelUnavailableError("the ONNX backend needs a cache directory for its model")
    return OnnxEmbedder(cache_dir, flip_augment=settings.flip_augment, threads=settings.threads)


class FaceEngine:
    """Detection, landmarks, alignment, quality and descriptors, wired together.

    Constructing one loads dlib's landmark model and the descriptor backend (converting
    dlib's network to ONNX into the cache on first use); the CNN detector loads on first
    use.

    Args:
        spec: what the engine is made of.
    """

    def __init__(self, spec: EngineSpec) -> None:
        self.spec = spec
        self.detector = FaceDetector(spec.detection)
        self.aligner = FaceAligner()
        self.embedder = build_embedder(spec.embedding, spec.cache_dir)
        self.quality_limits = spec.quality

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model behind :meth:`analyze`'s descriptors."""
        return self.embedder.model_id

    def analyze(self, image: RgbImage, describe: bool = True) -> list[Face]:
        """Find every face in ``image``, measure it and (by default) describe it.

        Descriptors of all faces of the image are computed in one batch.

        Args:
            image: an RGB image.
            describe: compute descriptors (skip for detection-only work).

        Returns:
            The faces, highest detector score first.
        """
        return self._measure(image, self.detector.detect(image), describe)

    def primary_face(self, image: RgbImage, describe: bool = True) -> Face | None:
        """The face ``image`` is "of" (see :func:`primary_face_index`), or ``None``.

        Only that face is aligned and described, however many the photo holds.
        """
        detections = self.detector.detect(image)
        index = primary_face_index([d.box for d in detections], image.shape[1], image.shape[0])
        if index is None:
            return None
        return self._measure(image, [detections[index]], describe)[0]

    def measure(
        self, image: RgbImage, detections: Sequence[Detection], describe: bool = False
    ) -> list[Face]:
        """Landmarks, chip, quality (and descriptors) of faces already detected in ``image``."""
        return self._measure(image, detections, describe)

    def _measure(
        self, image: RgbImage, detections: Sequence[Detection], describe: bool
    ) -> list[Face]:
        with span("landmarks"):
            shapes = self.aligner.landmarks(image, [d.box for d in detections])
            chips = self.aligner.chips(image, shapes)
        descriptors: Sequence[FloatArray | None] = [None] * len(chips)
        if describe and chips:
            with span("embed"):
                descriptors = list(self.embedder.embed(chips))
        faces = []
        for detection, shape, chip, descriptor in zip(
            detections, shapes, chips, descriptors, strict=True
        ):
            with span("quality"):
                landmarks = to_landmarks(shape)
                quality = measure_quality(detection.box, landmarks, chip)
                verdict = assess_quality(quality, self.quality_limits)
            faces.append(Face(detection, landmarks, quality, verdict, chip, descriptor))
        return faces


def descriptor_of(face: Face) -> FloatArray:
    """The face's descriptor; raises ``ValueError`` if it was not computed."""
    if face.descriptor is None:
        raise ValueError("this face was analysed without a descriptor")
    return np.asarray(face.descriptor, dtype=np.float32)
