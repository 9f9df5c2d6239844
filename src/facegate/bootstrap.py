"""Composition root: the one place that builds engines and adapters from settings."""

from __future__ import annotations

from facegate.config import Settings
from facegate.vision.alignment import FaceAligner
from facegate.vision.detection import FaceDetector
from facegate.vision.embedding import DlibEmbedder
from facegate.vision.engine import FaceEngine
from facegate.vision.photos import EnginePhotoDescriber


def build_engine(settings: Settings) -> FaceEngine:
    """A face engine on dlib's models as ``settings`` configure it (loads the models)."""
    return FaceEngine(
        detector=FaceDetector(settings.detection),
        aligner=FaceAligner(),
        embedder=DlibEmbedder(flip_augment=settings.embedding.flip_augment),
        quality_limits=settings.quality,
    )


def build_photo_describer(settings: Settings, require_quality: bool) -> EnginePhotoDescriber:
    """A describer of people's photos for evaluation, calibration and verification."""
    return EnginePhotoDescriber(build_engine(settings), settings.images, require_quality)
