"""The converted descriptor model in the cache: made on first use, pinned, written atomically.

The file is ``<cache_dir>/models/dlib_face_recognition_resnet_model_v1-<first 16 hex digits
of the .dat's SHA-256>-c<converter version>.onnx``: a new ``.dat`` or a new converter gets
a new name, and the model's metadata (full SHA-256, converter version) is checked again
when it is loaded. It is written to a temporary file in the same directory and renamed
over the final name (``os.replace``, atomic on POSIX and Windows), so a reader never sees
half a file and two processes converting at once both end with a whole one. It is made on
the user's machine from the packaged ``.dat``, never downloaded and never committed.
"""

from __future__ import annotations

from pathlib import Path

from facegate.domain.errors import ModelUnavailableError
from facegate.files import write_atomically
from facegate.vision.dlib_resnet import read_descriptor_network
from facegate.vision.models import MODEL_SPECS, ModelName, model_path
from facegate.vision.onnx_convert import CONVERTER_VERSION, build_onnx_model, model_metadata

MODELS_SUBDIR = "models"
"""Folder under the cache directory that holds converted models."""


def source_sha256() -> str:
    """SHA-256 of the descriptor ``.dat`` (checked against the pinned one by ``model_path``)."""
    model_path(ModelName.DESCRIPTOR)
    return MODEL_SPECS[ModelName.DESCRIPTOR].sha256


def converted_model_path(cache_dir: Path) -> Path:
    """Where the ONNX copy of the descriptor lives in ``cache_dir`` (it may not exist yet)."""
    stem = Path(ModelName.DESCRIPTOR.value).stem
    name = f"{stem}-{source_sha256()[:16]}-c{CONVERTER_VERSION}.onnx"
    return cache_dir / MODELS_SUBDIR / name


def expected_metadata() -> dict[str, str]:
    """The metadata a current converted model carries."""
    return model_metadata(source_sha256())


def convert_descriptor(cache_dir: Path) -> Path:
    """Convert the packaged ``.dat`` into the cache now (replacing any copy there).

    Returns:
        The converted model's path.

    Raises:
        ModelUnavailableError: the source is missing or unexpected, or the cache is not
            writable.
    """
    path = converted_model_path(cache_dir)
    network = read_descriptor_network(model_path(ModelName.DESCRIPTOR))
    model = build_onnx_model(network, source_sha256())
    try:
        write_atomically(path, model.SerializeToString(), mode=0o644)
    except OSError as err:
        raise ModelUnavailableError(f"cannot write the converted model to {path}: {err}") from err
    return path


def ensure_converted(cache_dir: Path) -> Path:
    """The converted model's path, converting first when it is missing.

    Staleness is told by the name (source hash and converter version) and, on load, by the
    metadata (see :func:`expected_metadata`); a file that fails that check is converted
    again by the loader through :func:`convert_descriptor`.
    """
    path = converted_model_path(cache_dir)
    if path.is_file():
        return path
    return convert_descriptor(cache_dir)
