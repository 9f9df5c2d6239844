"""Face descriptors with ONNX Runtime on facegate's own conversion of dlib's ResNet.

Same interface and same numbers as :class:`facegate.vision.embedding.DlibEmbedder` (its
model id too: the descriptors agree within 1e-4, see ``facegate bench embed``), about ten
times faster on a CPU and batched. The chips go in as they are (``uint8`` RGB 150x150);
dlib's normalisation, ``(pixel - mean) / 256`` per channel, happens inside the graph.
The CUDA execution provider is used when the installed ``onnxruntime-gpu`` offers it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import platform
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import numpy as np

from facegate.domain.errors import ModelUnavailableError
from facegate.domain.matching import DESCRIPTOR_SIZE, FloatArray
from facegate.vision.dlib_resnet import DESCRIPTOR_INPUT_SIDE_PX
from facegate.vision.images import RgbImage
from facegate.vision.models import DESCRIPTOR_MODEL_ID
from facegate.vision.onnx_cache import convert_descriptor, ensure_converted, expected_metadata
from facegate.vision.onnx_convert import INPUT_NAME, OUTPUT_NAME

MAX_BATCH = 64
"""Most chips per inference call (bounds memory: about 10 MB of activations per chip)."""

_CHIP_SHAPE = (DESCRIPTOR_INPUT_SIDE_PX, DESCRIPTOR_INPUT_SIDE_PX, 3)
_ORT_ERROR_NAMES = (
    "Fail",
    "InvalidArgument",
    "NoSuchFile",
    "NoModel",
    "EngineError",
    "RuntimeException",
    "InvalidProtobuf",
    "ModelLoaded",
    "NotImplemented",
    "InvalidGraph",
    "EPFail",
)


def import_onnxruntime() -> ModuleType:
    """Import ONNX Runtime, or explain which extra provides it."""
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as err:
        raise ModelUnavailableError(
            "the ONNX backend needs ONNX Runtime: pip install 'facegate[onnx]' "
            "(or 'facegate[gpu]' for CUDA)"
        ) from err


def onnx_backend_available() -> bool:
    """Whether ``onnxruntime`` imports and ``onnx`` (for the conversion) is installed.

    ``onnx`` is found, not imported: a gate whose model is already converted never needs
    it, and importing it costs about 12 MB of RSS (measured on the 2-core box).
    """
    try:
        importlib.import_module("onnxruntime")
    except ImportError:
        return False
    return importlib.util.find_spec("onnx") is not None


def resolve_backend(backend: Literal["auto", "dlib", "onnx"]) -> Literal["dlib", "onnx"]:
    """The backend ``backend`` names: ``auto`` is ``onnx`` when it is installed, else dlib."""
    if backend == "auto":
        return "onnx" if onnx_backend_available() else "dlib"
    return backend


def ort_errors(ort: ModuleType) -> tuple[type[BaseException], ...]:
    """ONNX Runtime's exception classes (they derive from ``Exception`` only)."""
    state = importlib.import_module(f"{ort.__name__}.capi.onnxruntime_pybind11_state")
    found = (getattr(state, name, None) for name in _ORT_ERROR_NAMES)
    return (RuntimeError, OSError, *(kind for kind in found if isinstance(kind, type)))


def execution_providers(ort: ModuleType) -> list[str]:
    """CUDA first when this ONNX Runtime build offers it, the CPU always."""
    available = ort.get_available_providers()
    if "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def _create_session(
    ort: ModuleType, path: Path, threads: int | None, optimize: bool = True, save_to: str = ""
) -> Any:
    """A session on ``path``; ``optimize=False`` for a copy ONNX Runtime optimized already."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: warnings would clutter the CLI's stderr
    if threads is not None:
        options.intra_op_num_threads = threads
    if not optimize:
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    if save_to:
        options.optimized_model_filepath = save_to
    return ort.InferenceSession(str(path), options, providers=execution_providers(ort))


def optimized_model_path(ort: ModuleType, path: Path) -> Path:
    """Where ONNX Runtime's optimized copy of ``path`` is kept, for this runtime and CPU.

    The copy holds layouts for this CPU's vector instructions, hence a digest of the
    runtime's version, the machine and the CPU's flags in its name.
    """
    try:
        cpu = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        flags = next((ln for ln in cpu.splitlines() if ln.startswith(("flags", "Features"))), "")
    except OSError:
        flags = platform.processor()
    key = f"{ort.__version__}|{platform.machine()}|{flags}"
    return path.with_name(f"{path.stem}.ort-{hashlib.sha256(key.encode()).hexdigest()[:12]}.onnx")


def _write_optimized(ort: ModuleType, path: Path, optimized: Path, threads: int | None) -> bool:
    """Have ONNX Runtime write its optimized copy of ``path``; ``False`` where it cannot."""
    temporary = optimized.with_name(f".{optimized.name}.{os.getpid()}.{threading.get_ident()}")
    try:
        _create_session(ort, path, threads, save_to=str(temporary))
        os.replace(temporary, optimized)  # a reader sees no copy or a whole one
    except ort_errors(ort):
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _optimized_session(ort: ModuleType, path: Path, threads: int | None, fresh: bool) -> Any:
    """A session on the optimized copy of ``path`` (made first when missing or ``fresh``).

    Loading the copy with the graph optimizations off holds about 45 MB less than
    optimizing ``path`` at every start (measured on the 2-core box: +80 MB RSS per
    session against +35 MB; descriptors bit-identical, no slower per chip). A copy that
    does not load is made again once; where none can be written (a read-only cache), the
    session is on ``path`` itself.
    """
    optimized = optimized_model_path(ort, path)
    if (fresh or not optimized.is_file()) and not _write_optimized(ort, path, optimized, threads):
        return _create_session(ort, path, threads)
    try:
        return _create_session(ort, optimized, threads, optimize=False)
    except ort_errors(ort):  # damaged or truncated: made again from the source
        if not _write_optimized(ort, path, optimized, threads):
            return _create_session(ort, path, threads)
        return _create_session(ort, optimized, threads, optimize=False)


def _is_current(session: Any) -> bool:
    metadata = dict(session.get_modelmeta().custom_metadata_map)
    return all(metadata.get(key) == value for key, value in expected_metadata().items())


def _load_current(
    ort: ModuleType, path: Path, threads: int | None, fresh: bool = False
) -> Any | None:
    """A session on ``path`` if it loads and its metadata is current, else ``None``.

    On the CPU the session runs ONNX Runtime's optimized copy of ``path``
    (:func:`_optimized_session`; ``fresh`` makes it again); with CUDA, ``path`` itself.
    """
    try:
        if execution_providers(ort) == ["CPUExecutionProvider"]:
            session = _optimized_session(ort, path, threads, fresh)
        else:
            session = _create_session(ort, path, threads)
    except ort_errors(ort):
        return None  # damaged, truncated or foreign: the caller converts again
    return session if _is_current(session) else None


def open_session(cache_dir: Path, threads: int | None = None) -> Any:
    """An inference session on the converted descriptor, converting it when needed.

    A cached file that does not load or whose metadata is not current is converted again
    once; a second failure is an error.

    Raises:
        ModelUnavailableError: ONNX Runtime is missing, or the model cannot be made.
    """
    ort = import_onnxruntime()
    session = _load_current(ort, ensure_converted(cache_dir), threads)
    if session is not None:
        return session
    path = convert_descriptor(cache_dir)
    session = _load_current(ort, path, threads, fresh=True)
    if session is None:
        raise ModelUnavailableError(
            f"ONNX Runtime cannot load the freshly converted {path}, or it lacks the "
            f"expected metadata {expected_metadata()}"
        )
    return session


class OnnxEmbedder:
    """dlib's descriptor network run by ONNX Runtime, batched over chips.

    Args:
        cache_dir: where the converted model is kept (made on first use).
        flip_augment: also describe each chip mirrored and average the two descriptors
            (test-time augmentation; doubles the cost).
        threads: ONNX Runtime intra-op threads; ``None`` for its default (one per core).
    """

    backend = "onnx"

    def __init__(self, cache_dir: Path, flip_augment: bool = False, threads: int | None = None):
        self._session = open_session(cache_dir, threads)
        self._errors = ort_errors(import_onnxruntime())
        self.flip_augment = flip_augment
        self.threads = threads

    @property
    def model_id(self) -> str:
        """Identity of the descriptor model: dlib's, since the descriptors are the same."""
        return DESCRIPTOR_MODEL_ID

    @property
    def providers(self) -> list[str]:
        """The execution providers the session runs on, preferred first."""
        return list(self._session.get_providers())

    def embed(self, chips: Sequence[RgbImage]) -> FloatArray:
        """Descriptors of aligned 150x150 RGB ``uint8`` chips.

        Returns:
            ``(len(chips), 128)`` float32.

        Raises:
            ValueError: a chip is not ``(150, 150, 3)`` ``uint8``.
            ModelUnavailableError: ONNX Runtime failed.
        """
        if not chips:
            return np.empty((0, DESCRIPTOR_SIZE), dtype=np.float32)
        for chip in chips:
            if chip.shape != _CHIP_SHAPE or chip.dtype != np.uint8:
                raise ValueError(
                    f"chips must be {_CHIP_SHAPE} uint8, got {chip.shape} {chip.dtype}"
                )
        batch = np.stack(chips)
        if self.flip_augment:
            batch = np.concatenate([batch, batch[:, :, ::-1]])
        vectors = np.concatenate(
            [
                self._run(batch[start : start + MAX_BATCH])
                for start in range(0, len(batch), MAX_BATCH)
            ]
        )
        if self.flip_augment:
            vectors = (vectors[: len(chips)] + vectors[len(chips) :]) / 2.0
        return vectors.astype(np.float32, copy=False)

    def _run(self, batch: RgbImage) -> FloatArray:
        try:
            (output,) = self._session.run([OUTPUT_NAME], {INPUT_NAME: np.ascontiguousarray(batch)})
        except self._errors as err:
            raise ModelUnavailableError(f"ONNX Runtime failed on the descriptor: {err}") from err
        return np.asarray(output, dtype=np.float32)
