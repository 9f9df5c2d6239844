"""Ports of the face engine side: photo describers, embedders, progress."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from facegate.domain.faces import UploadedPhoto
from facegate.domain.matching import FloatArray


class PhotoDescriber(Protocol):
    """Turns a photo of one person into the descriptor of its primary face."""

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model."""
        ...

    def describe(self, path: Path | UploadedPhoto) -> FloatArray:
        """The primary face's 128-D descriptor (of a file, or of an upload's bytes).

        Raises:
            BadInputError: unreadable image, no face, or (if the gate applies) low quality.
        """
        ...


class Progress(Protocol):
    """Receives progress of a long job: ``advance`` once per finished item."""

    def start(self, total: int, description: str) -> None:
        """A job of ``total`` items begins."""
        ...

    def advance(self) -> None:
        """One item is done."""
        ...


class Embedder(Protocol):
    """Turns aligned 150x150 RGB face chips into 128-D descriptors (one backend each)."""

    @property
    def backend(self) -> str:
        """The backend's name (``dlib``, ``onnx``)."""
        ...

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model (templates of different models never mix)."""
        ...

    def embed(self, chips: Sequence[npt.NDArray[np.uint8]]) -> FloatArray:
        """``(len(chips), 128)`` float32 descriptors, computed as one batch."""
        ...
