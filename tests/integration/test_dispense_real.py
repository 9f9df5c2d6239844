"""``facegate dispense`` on real video: one item per face, the returning face told when,
a still photo given nothing, and no descriptor anywhere but in memory.

The clip: the webcam person (30 frames), an empty corridor (12 frames: the track ends),
the same person again (the same 30 frames: liveness passes them as it did,
so what refuses them is the quota), empty, the talking head (someone
else, 30 frames, scaled into the same picture), empty, then one still frame of the webcam
person held for 90 frames (a photo in front of the camera: 3.6 s at 25 frames/s, past
the liveness schedule's 3 s refusal).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from facegate.cli import app
from facegate.domain.matching import FloatArray
from facegate.vision.engine import FaceEngine
from gate_support import gate_engine, read_video, video

__all__ = ["gate_engine"]

BLANK = 12
"""Frames without a face between two presentations (more than the tracker's 10)."""


def _fit(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """``image`` scaled to ``height`` lines and centred on a grey picture of the size."""
    scale = height / image.shape[0]
    scaled = cv2.resize(image, (round(image.shape[1] * scale), height))
    canvas = np.full((height, width, 3), 128, dtype=np.uint8)
    left = max((width - scaled.shape[1]) // 2, 0)
    canvas[:, left : left + scaled.shape[1]] = scaled[:, : width - left]
    return canvas


def write_clip(path: Path, shared_data: Path) -> Path:
    webcam = video(shared_data, "webcam_one_person.mp4")
    first = [f.image for f in read_video(webcam, 400, 30)]
    again = first  # the same seconds again: the quota, not liveness, must refuse them
    height, width = first[0].shape[:2]
    other = [
        _fit(f.image, height, width)
        for f in read_video(video(shared_data, "talking_head.mp4"), 0, 30)
    ]
    blank = [np.full((height, width, 3), 128, dtype=np.uint8)] * BLANK
    still = [first[0]] * 90  # 3.6 s: the schedule refuses at 3 s (docs/gate.md)
    images = [*first, *blank, *again, *blank, *other, *blank, *still]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (width, height))
    for image in images:
        writer.write(image[:, :, ::-1])
    writer.release()
    return path


def _traces(descriptors: Sequence[FloatArray]) -> list[bytes]:
    """What a descriptor leaves when written: its raw bytes (float32 and float64), reprs."""
    traces: list[bytes] = []
    for descriptor in descriptors:
        values = np.asarray(descriptor)
        traces += [
            values.astype(np.float32).tobytes()[:16],
            values.astype(np.float64).tobytes()[:32],
        ]
        for x in values[:8]:
            traces += [repr(float(x)).encode(), f"{float(x):.6f}".encode()]
    return traces


def test_dispense_gives_once_tells_when_and_keeps_no_descriptor(
    tmp_path: Path,
    shared_data: Path,
    gate_engine: FaceEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clip = write_clip(tmp_path / "clip.avi", shared_data)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(data_dir))
    produced: list[FloatArray] = []
    embedder_type = type(gate_engine.embedder)
    real_embed = embedder_type.embed

    def spy(self: object, chips: Sequence[np.ndarray]) -> FloatArray:
        out = real_embed(self, chips)  # type: ignore[arg-type]
        produced.extend(np.array(row, copy=True) for row in out)
        return out

    monkeypatch.setattr(embedder_type, "embed", spy)
    log_file = tmp_path / "dispense.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        result = CliRunner().invoke(
            app,
            ["dispense", "--video", str(clip), "--items", "1", "--per-minutes", "9", "--json"],
        )
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    given = [r for r in rows if r["given"]]
    assert len(given) == 2, rows  # the webcam person once, the talking head once
    refused = [r for r in rows if r["reason"] == "quota_reached"]
    assert refused, rows
    assert all(0 < r["retry_after_s"] <= 540 for r in refused), rows
    first_given, second_given = given[0]["frame"], given[1]["frame"]
    assert first_given < 30
    assert refused[0]["frame"] < second_given
    still_start = 30 + BLANK + 30 + BLANK + 30 + BLANK
    assert not [r for r in given if r["frame"] >= still_start]  # the photo gets nothing
    assert [r["reason"] for r in rows if r["frame"] >= still_start] == ["spoof_suspected"]
    # Only the count is recorded; no descriptor in any file or log line.
    assert sorted(p.name for p in data_dir.rglob("*") if p.is_file()) == ["dispensed.json"]
    counter = json.loads((data_dir / "dispensed.json").read_text())
    assert set(counter) == {"hours", "total"}
    assert counter["total"] == 2
    assert len(produced) >= 3
    log_text = log_file.read_bytes()
    assert b"item given" in log_text  # the log file did receive the dispenser's lines
    written = [log_text, result.stdout.encode(), result.stderr.encode()]
    written += [p.read_bytes() for p in data_dir.rglob("*") if p.is_file()]
    control = repr([float(x) for x in produced[0]]).encode()  # the search finds a real leak
    assert any(t in control for t in _traces(produced[:1]))
    leaks = [t for t in _traces(produced) if any(t in blob for blob in written)]
    assert not leaks
