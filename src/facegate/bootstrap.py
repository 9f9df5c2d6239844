"""Composition root: the one place that builds engines and adapters from settings."""

from __future__ import annotations

from facegate.config import Settings
from facegate.vision.engine import EngineSpec, FaceEngine
from facegate.vision.photos import EnginePhotoDescriber


def engine_spec(settings: Settings) -> EngineSpec:
    """The face engine ``settings`` describe."""
    return EngineSpec(
        detection=settings.detection,
        embedding=settings.embedding,
        quality=settings.quality,
        cache_dir=settings.cache_dir,
    )


def build_engine(settings: Settings) -> FaceEngine:
    """A face engine as ``settings`` configure it (loads the models, converts on first use)."""
    return FaceEngine(engine_spec(settings))


def build_photo_describer(settings: Settings, require_quality: bool) -> EnginePhotoDescriber:
    """A describer of people's photos for evaluation, calibration and verification."""
    return EnginePhotoDescriber(build_engine(settings), settings.images, require_quality)
