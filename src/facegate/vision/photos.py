"""Photos of people to descriptors: the engine behind evaluation, calibration and verify."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from facegate.domain.errors import LowQualityError, NoFaceError
from facegate.domain.faces import UploadedPhoto
from facegate.domain.matching import FloatArray
from facegate.vision.engine import EngineSpec, Face, FaceEngine, descriptor_of
from facegate.vision.images import ImageLimits, load_image


class EnginePhotoDescriber:
    """Reads a photo within the image limits and describes its primary face.

    Args:
        engine: the face engine.
        limits: image size limits.
        require_quality: refuse faces that fail the quality gate (as enrolment does).
    """

    def __init__(self, engine: FaceEngine, limits: ImageLimits, require_quality: bool) -> None:
        self.engine = engine
        self.limits = limits
        self.require_quality = require_quality

    def __reduce__(self) -> tuple[Any, tuple[EngineSpec, ImageLimits, bool]]:
        """Pickle as the recipe, not the loaded models: a worker process rebuilds it."""
        return (_rebuild, (self.engine.spec, self.limits, self.require_quality))

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model."""
        return self.engine.model_id

    def primary_face(self, path: Path | UploadedPhoto) -> Face:
        """The photo's primary face, described.

        Raises:
            BadInputError: unreadable or out-of-limits image (its subclasses say which).
            NoFaceError: no face found.
            LowQualityError: the face failed the quality gate and quality is required.
        """
        source = path if isinstance(path, Path) else path.data
        image = load_image(source, self.limits, max_side_px=self.limits.max_face_side_px)
        face = self.engine.primary_face(image)
        if face is None:
            raise NoFaceError(f"{path}: no face found")
        if self.require_quality and not face.verdict.passed:
            raise LowQualityError(
                f"{path}: the face failed the quality gate ({', '.join(face.verdict.failures)})"
            )
        return face

    def describe(self, path: Path | UploadedPhoto) -> FloatArray:
        """The primary face's descriptor (see :meth:`primary_face` for errors)."""
        return descriptor_of(self.primary_face(path))


def _rebuild(spec: EngineSpec, limits: ImageLimits, require_quality: bool) -> EnginePhotoDescriber:
    return EnginePhotoDescriber(FaceEngine(spec), limits, require_quality)
