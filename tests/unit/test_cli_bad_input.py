"""Every kind of bad image gets a clear message and exit code 3 from every photo command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageFile
from typer.testing import CliRunner

from facegate.cli import app
from support import bad_image_files, encoded

runner = CliRunner()


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return bad_image_files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize(
    "kind", ["empty", "not_an_image", "corrupt", "truncated", "one_pixel", "bomb_30000x30000"]
)
@pytest.mark.parametrize("command", ["detect", "embed"])
def test_bad_image_exits_3_with_a_reason(
    bad_files: dict[str, Path], kind: str, command: str
) -> None:
    result = runner.invoke(app, [command, str(bad_files[kind]), "--json"])
    assert result.exit_code == 3, result.output
    error = json.loads(result.stdout)["error"]
    assert error["exit_code"] == 3
    assert str(bad_files[kind]) in error["message"]
    assert "error:" in result.stderr


def test_bomb_is_refused_before_any_pixel_is_decoded(
    bad_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: ImageFile.ImageFile) -> None:
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    result = runner.invoke(app, ["detect", str(bad_files["bomb_30000x30000"])])
    assert result.exit_code == 3
    assert "900000000 pixels" in result.stderr
    assert "40000000" in result.stderr


def test_pixel_limit_follows_the_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photo = tmp_path / "photo.png"
    photo.write_bytes(encoded(Image.new("RGB", (200, 100)), "PNG"))
    monkeypatch.setenv("FACEGATE_IMAGES__MAX_IMAGE_PIXELS", "19999")
    result = runner.invoke(app, ["detect", str(photo)])
    assert result.exit_code == 3
    assert "limit is 19999" in result.stderr


def test_missing_file_and_folder_exit_3(tmp_path: Path) -> None:
    for target in (tmp_path / "nowhere.jpg", tmp_path):
        result = runner.invoke(app, ["detect", str(target)])
        assert result.exit_code == 3, target


def test_usage_error_exits_2() -> None:
    assert runner.invoke(app, ["detect"]).exit_code == 2
    assert runner.invoke(app, ["calibrate", "somewhere"]).exit_code == 2
