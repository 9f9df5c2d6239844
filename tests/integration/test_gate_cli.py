"""``facegate gate --video``: decisions printed, exit 0 at the end, outbox delivered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from facegate.cli import app
from facegate.config import Settings
from facegate.ports import Frame
from facegate.services import places
from facegate.vision.engine import FaceEngine
from gate_support import ALL_WEEK, ann_frames, gate_engine, make_site, stranger_frames

__all__ = ["ann_frames", "gate_engine", "stranger_frames"]


def write_clip(path: Path, frames: list[Frame]) -> Path:
    height, width = frames[0].image.shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (width, height))
    for frame in frames:
        writer.write(frame.image[:, :, ::-1])
    writer.release()
    return path


@pytest.mark.parametrize(
    ("liveness", "notice"),
    [("none", "no liveness check runs"), ("motion", "the multi-frame cues alone")],
)
def test_gate_on_a_video_prints_json_lines_and_delivers(
    liveness: str,
    notice: str,
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
    ann_frames: list[Frame],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings(data_dir=tmp_path / "site", cache_dir=session_cache_dir)
    site = make_site(settings, gate_engine, shared_data, tmp_path)
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    clip = write_clip(tmp_path / "arrival.avi", ann_frames)
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("FACEGATE_GATE__LIVENESS", liveness)
    result = CliRunner().invoke(app, ["gate", "--video", str(clip), "--door", door, "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["granted"], r["reason"], r["person_id"]) for r in rows] == [
        (True, "granted", site.ann)
    ]
    assert notice in result.stderr
    assert [e.id for e in site.events()] == [rows[0]["event_key"]]
    site.store.close()


def test_gate_needs_exactly_one_source(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["gate", "--door", "d1", "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["kind"] == "bad_input"


def test_gate_without_a_site_is_refused(tmp_path: Path) -> None:
    clip = tmp_path / "none.avi"
    clip.write_bytes(b"")
    result = CliRunner().invoke(app, ["gate", "--video", str(clip), "--door", "d1"])
    assert result.exit_code in (3, 5)


def test_sigterm_stops_the_gate_cleanly_and_delivers_the_outbox(
    tmp_path: Path,
    gate_engine: FaceEngine,
    shared_data: Path,
    session_cache_dir: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "site", cache_dir=session_cache_dir)
    site = make_site(settings, gate_engine, shared_data, tmp_path)
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    env = {
        **os.environ,
        "FACEGATE_DATA_DIR": str(settings.data_dir),
        "FACEGATE_CACHE_DIR": str(session_cache_dir),
        "FACEGATE_GATE__LIVENESS": "none",  # this test is about stopping, not liveness
    }
    whole_video = shared_data / "video" / "webcam_one_person.mp4"
    command = [str(Path(sys.executable).with_name("facegate")), "gate", "--json"]
    process = subprocess.Popen(
        [*command, "--video", str(whole_video), "--door", door],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = json.loads(process.stdout.readline())
        process.send_signal(signal.SIGTERM)
        rest, errors = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, errors
    assert first["reason"] == "granted"
    assert "stopped:" in errors
    printed = [first["event_key"]] + [json.loads(line)["event_key"] for line in rest.splitlines()]
    assert sorted(e.id for e in site.events()) == sorted(printed)
    site.store.close()
