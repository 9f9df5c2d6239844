"""ONNX descriptors against dlib's on real chips, and the commands that expose both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from facegate.cli import app
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD
from facegate.vision.embed_bench import agreement
from facegate.vision.embedding import DlibEmbedder
from facegate.vision.onnx_embedding import OnnxEmbedder

runner = CliRunner()
PARITY_LIMIT = 1e-4


def real_chips(shared_data: Path, per_person: int) -> list[np.ndarray]:
    """A few of dlib's aligned 150x150 example chips per person, and TV-cast faces."""
    chips = []
    for folder in ("johns", "tvcast"):
        for person in sorted((shared_data / "faces" / folder).iterdir()):
            for path in sorted(person.iterdir())[:per_person]:
                with Image.open(path) as image:
                    chips.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
    return chips


@pytest.mark.parametrize("flip_augment", [False, True])
def test_onnx_matches_dlib_on_real_chips(
    shared_data: Path, session_cache_dir: Path, flip_augment: bool
) -> None:
    chips = real_chips(shared_data, per_person=2)
    assert len(chips) >= 20
    reference = DlibEmbedder(flip_augment=flip_augment).embed(chips)
    converted = OnnxEmbedder(session_cache_dir, flip_augment=flip_augment).embed(chips)
    result = agreement(reference, converted, DEFAULT_MATCH_THRESHOLD)
    assert result.max_abs_diff <= PARITY_LIMIT
    assert result.decisions_identical
    assert result.pairs == len(chips) * (len(chips) - 1) // 2


def embed_json(image: Path, backend: str) -> dict:
    result = runner.invoke(app, ["embed", str(image), "--backend", backend, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_embed_command_gives_the_same_descriptors_on_both_backends(shared_data: Path) -> None:
    image = shared_data / "faces" / "lfw10" / "Tony_Blair" / "Tony_Blair_0001.jpg"
    by_dlib, by_onnx = embed_json(image, "dlib"), embed_json(image, "onnx")
    assert (by_dlib["backend"], by_onnx["backend"]) == ("dlib", "onnx")
    assert by_dlib["model"] == by_onnx["model"]
    assert len(by_dlib["faces"]) == len(by_onnx["faces"]) >= 1
    for a, b in zip(by_dlib["faces"], by_onnx["faces"], strict=True):
        assert a["box"] == b["box"]
        assert len(b["descriptor"]) == 128
        assert np.max(np.abs(np.subtract(a["descriptor"], b["descriptor"]))) <= PARITY_LIMIT


def test_bench_embed_prints_the_contract_keys(shared_data: Path) -> None:
    result = runner.invoke(
        app, ["bench", "embed", "--data", str(shared_data), "--faces", "6", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    keys = {"dlib_ms_b1", "onnx_ms_b1", "onnx_ms_b8", "speedup", "max_abs_diff"}
    assert keys | {"decisions_identical"} <= report.keys()
    assert report["faces"] == 6
    assert report["pairs"] == 15
    assert all(report[key] > 0 for key in keys - {"max_abs_diff"})
    assert report["max_abs_diff"] <= PARITY_LIMIT
    assert report["decisions_identical"] is True


def test_bench_embed_without_data_is_bad_input(tmp_path: Path) -> None:
    result = runner.invoke(app, ["bench", "embed", "--data", str(tmp_path), "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["kind"] == "data_set"
