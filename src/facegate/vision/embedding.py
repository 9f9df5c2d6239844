"""Face descriptors from aligned chips with dlib's ResNet (128-D, euclidean radius 0.6)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from facegate.domain.matching import DESCRIPTOR_SIZE, FloatArray
from facegate.vision.images import RgbImage
from facegate.vision.models import DESCRIPTOR_MODEL_ID, ModelName, import_dlib, model_path


@dataclass(frozen=True, slots=True)
class EmbeddingSettings:
    """How descriptors are computed.

    Attributes:
        flip_augment: average each chip's descriptor with its mirror image's (test-time
            augmentation; doubles the descriptor cost; default off).
        backend: ``onnx`` runs facegate's ONNX conversion of dlib's network in ONNX
            Runtime (about 10x faster on a CPU, CUDA when ``onnxruntime-gpu`` is
            installed); ``dlib`` runs dlib itself (the reference); ``auto`` (default) is
            ``onnx`` when ``onnxruntime`` and ``onnx`` are installed, else ``dlib``. Both
            give the same descriptors within 1e-4 and share one model id.
        threads: ONNX Runtime intra-op threads (``None``, the default: one per core;
            typical 1-4 on a gate box that also detects faces). dlib ignores it.
    """

    flip_augment: bool = False
    backend: Literal["auto", "dlib", "onnx"] = "auto"
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"embedding threads must be at least 1, got {self.threads}")


class DlibEmbedder:
    """dlib's ``face_recognition_model_v1``, batched over chips.

    Args:
        flip_augment: also describe each chip mirrored and average the two descriptors
            (test-time augmentation; doubles the cost).
    """

    backend = "dlib"

    def __init__(self, flip_augment: bool = False) -> None:
        dlib = import_dlib()
        self._model = dlib.face_recognition_model_v1(str(model_path(ModelName.DESCRIPTOR)))
        self.flip_augment = flip_augment

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model (templates of different models never mix)."""
        return DESCRIPTOR_MODEL_ID

    def embed(self, chips: Sequence[RgbImage]) -> FloatArray:
        """Descriptors of aligned 150x150 chips.

        Returns:
            ``(len(chips), 128)`` float32.
        """
        if not chips:
            return np.empty((0, DESCRIPTOR_SIZE), dtype=np.float32)
        batch = [np.ascontiguousarray(chip) for chip in chips]
        if self.flip_augment:
            batch += [np.ascontiguousarray(chip[:, ::-1]) for chip in chips]
        vectors = np.asarray(self._model.compute_face_descriptor(batch), dtype=np.float32)
        if self.flip_augment:
            vectors = (vectors[: len(chips)] + vectors[len(chips) :]) / 2.0
        return vectors
