"""The converted model in the cache and the ONNX Runtime embedder (no shared data needed)."""

from __future__ import annotations

import pickle
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx
import pytest

from facegate.bootstrap import engine_spec
from facegate.config import Settings
from facegate.domain.errors import ModelUnavailableError
from facegate.vision.embedding import DlibEmbedder, EmbeddingSettings
from facegate.vision.engine import build_embedder
from facegate.vision.models import DESCRIPTOR_MODEL_ID, MODEL_SPECS, ModelName
from facegate.vision.onnx_cache import (
    MODELS_SUBDIR,
    convert_descriptor,
    converted_model_path,
    ensure_converted,
    expected_metadata,
)
from facegate.vision.onnx_embedding import OnnxEmbedder, open_session, resolve_backend

CONVERT_AT_SIGNAL = """
import sys, time
from pathlib import Path
from facegate.vision.onnx_cache import convert_descriptor
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
convert_descriptor(Path(sys.argv[1]))
"""


def metadata_of(path: Path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_conversion_goes_to_the_cache_under_a_name_pinned_by_the_source_hash(
    tmp_path: Path,
) -> None:
    path = convert_descriptor(tmp_path)
    assert path == converted_model_path(tmp_path)
    assert path.parent == tmp_path / MODELS_SUBDIR
    assert MODEL_SPECS[ModelName.DESCRIPTOR].sha256[:16] in path.name
    assert metadata_of(path) == expected_metadata()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left


def test_an_existing_conversion_is_reused(tmp_path: Path) -> None:
    path = ensure_converted(tmp_path)
    stamp = path.stat().st_mtime_ns
    assert ensure_converted(tmp_path) == path
    open_session(tmp_path)
    assert path.stat().st_mtime_ns == stamp


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_a_damaged_or_stale_file_is_converted_again(tmp_path: Path, damage: str) -> None:
    path = convert_descriptor(tmp_path)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:1000])
    else:
        model = onnx.load(str(path))
        onnx.helper.set_model_props(model, {**expected_metadata(), "source_sha256": "0" * 64})
        path.write_bytes(model.SerializeToString())
    session = open_session(tmp_path)
    assert session.get_modelmeta().custom_metadata_map["source_sha256"] == (
        MODEL_SPECS[ModelName.DESCRIPTOR].sha256
    )
    assert metadata_of(path) == expected_metadata()


def test_unwritable_cache_is_a_model_error(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    with pytest.raises(ModelUnavailableError, match="cannot write"):
        convert_descriptor(blocker)


def test_two_processes_converting_at_once_leave_one_whole_model(tmp_path: Path) -> None:
    cache, go = tmp_path / "cache", tmp_path / "go"
    workers = [
        subprocess.Popen([sys.executable, "-c", CONVERT_AT_SIGNAL, str(cache), str(go)])
        for _ in range(2)
    ]
    time.sleep(1.0)  # both have imported facegate and wait for the signal
    go.touch()
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    path = converted_model_path(cache)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert metadata_of(path) == expected_metadata()
    onnx.checker.check_model(str(path))
    assert OnnxEmbedder(cache).embed([np.zeros((150, 150, 3), np.uint8)]).shape == (1, 128)


def test_auto_prefers_onnx_when_installed() -> None:
    assert resolve_backend("auto") == "onnx"
    assert resolve_backend("dlib") == "dlib"


def test_backend_choice_reaches_the_engine(tmp_path: Path) -> None:
    assert isinstance(build_embedder(EmbeddingSettings(backend="dlib"), None), DlibEmbedder)
    assert isinstance(build_embedder(EmbeddingSettings(), tmp_path), OnnxEmbedder)
    with pytest.raises(ModelUnavailableError, match="cache directory"):
        build_embedder(EmbeddingSettings(backend="onnx"), None)


def test_engine_spec_carries_the_cache_dir_and_pickles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACEGATE_EMBEDDING__BACKEND", "dlib")
    monkeypatch.setenv("FACEGATE_EMBEDDING__THREADS", "2")
    spec = engine_spec(Settings(cache_dir=tmp_path))
    assert spec.cache_dir == tmp_path
    assert spec.embedding == EmbeddingSettings(backend="dlib", threads=2)
    assert pickle.loads(pickle.dumps(spec)) == spec


def test_threads_must_be_positive() -> None:
    with pytest.raises(ValueError, match="threads"):
        EmbeddingSettings(threads=0)


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def embedder(module_cache: Path) -> OnnxEmbedder:
    return OnnxEmbedder(module_cache, threads=1)


def test_embed_shapes_batches_and_flip(embedder: OnnxEmbedder, module_cache: Path) -> None:
    rng = np.random.default_rng(7)
    chips = [rng.integers(0, 256, (150, 150, 3), dtype=np.uint8) for _ in range(3)]
    assert embedder.embed([]).shape == (0, 128)
    together = embedder.embed(chips)
    assert together.shape == (3, 128)
    assert together.dtype == np.float32
    one_by_one = np.concatenate([embedder.embed([chip]) for chip in chips])
    assert np.max(np.abs(together - one_by_one)) < 1e-5
    flipping = OnnxEmbedder(module_cache, flip_augment=True, threads=1)
    mirrored = embedder.embed([np.ascontiguousarray(c[:, ::-1]) for c in chips])
    assert np.allclose(flipping.embed(chips), (together + mirrored) / 2.0, atol=1e-6)
    assert embedder.model_id == DESCRIPTOR_MODEL_ID
    assert embedder.providers[-1] == "CPUExecutionProvider"


def test_embed_refuses_chips_of_another_shape(embedder: OnnxEmbedder) -> None:
    with pytest.raises(ValueError, match="150"):
        embedder.embed([np.zeros((100, 100, 3), np.uint8)])
    with pytest.raises(ValueError, match="uint8"):
        embedder.embed([np.zeros((150, 150, 3), np.float32)])  # type: ignore[list-item]


def test_flip_setting_reaches_the_onnx_embedder(tmp_path: Path) -> None:
    settings = replace(EmbeddingSettings(), flip_augment=True, backend="onnx")
    built = build_embedder(settings, tmp_path)
    assert isinstance(built, OnnxEmbedder)
    assert built.flip_augment is True


def test_the_session_runs_the_runtimes_optimized_copy_with_the_same_descriptors(
    tmp_path: Path,
) -> None:
    import onnxruntime as ort

    from facegate.vision.onnx_embedding import optimized_model_path

    session = open_session(tmp_path, threads=1)
    path = converted_model_path(tmp_path)
    copy = optimized_model_path(ort, path)
    assert sorted(p.name for p in path.parent.iterdir()) == sorted([path.name, copy.name])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    plain = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    chips = np.random.default_rng(3).integers(0, 256, (3, 150, 150, 3), dtype=np.uint8)
    name = plain.get_inputs()[0].name
    assert np.array_equal(session.run(None, {name: chips})[0], plain.run(None, {name: chips})[0])
    stamp = copy.stat().st_mtime_ns
    open_session(tmp_path, threads=1)
    assert copy.stat().st_mtime_ns == stamp  # made once, then reused


def test_a_damaged_optimized_copy_is_made_again(tmp_path: Path) -> None:
    import onnxruntime as ort

    from facegate.vision.onnx_embedding import optimized_model_path

    open_session(tmp_path)
    copy = optimized_model_path(ort, converted_model_path(tmp_path))
    copy.write_bytes(copy.read_bytes()[:1000])
    session = open_session(tmp_path)
    assert dict(session.get_modelmeta().custom_metadata_map) == expected_metadata()
    assert copy.stat().st_size > 1_000_000
