"""The RGB + NIR pair as one source, and the NIR cue's fail-closed paths (no hardware)."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.domain.errors import CameraFailedError
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame, SensorFrame
from facegate.gate.paired_source import PairedSource, nir_pixels
from facegate.ports import Frame
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.nir import NirCue, box_iou

FACE = Box(40, 30, 100, 100)
LANDMARKS = FivePointLandmarks(points=((85, 50), (75, 50), (55, 50), (65, 50), (70, 80)))


class ListSource:
    """Frames at given times; optionally fails on given reads."""

    def __init__(self, times: list[float], value: int, fail_at: set[int] | None = None):
        self.times, self.value, self.fail_at = times, value, fail_at or set()
        self.reads, self.closed = 0, False

    @property
    def description(self) -> str:
        return f"list {self.value}"

    def read(self) -> Frame | None:
        self.reads += 1
        if self.reads - 1 in self.fail_at:
            raise CameraFailedError("no frame")
        index = self.reads - 1 - len([f for f in self.fail_at if f < self.reads - 1])
        if index >= len(self.times):
            return None
        image = np.full((120, 160, 3), self.value + index, dtype=np.uint8)
        return Frame(image, index, self.times[index])

    def close(self) -> None:
        self.closed = True


def _read_all(source: PairedSource) -> list[Frame]:
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    return frames


def test_each_colour_frame_gets_the_nir_frame_nearest_in_time() -> None:
    colour = ListSource([0.0, 0.04, 0.08, 0.12], value=0)
    nir = ListSource([0.005, 0.03, 0.05, 0.075, 0.11], value=100)
    frames = _read_all(PairedSource(colour, nir, max_skew_s=0.02))
    assert [f.index for f in frames] == [0, 1, 2, 3]
    # NIR frame k has grey value 100 + k: nearest to 0.0 is 0.005 (k=0), to 0.04 is 0.03
    # or 0.05 (tie broken to the earlier), to 0.08 is 0.075, to 0.12 is 0.11.
    nearest = [int(f.sensor[0].pixels[0, 0]) - 100 for f in frames]
    assert nearest == [0, 1, 3, 4]
    skews = [round(f.sensor[0].skew_s, 3) for f in frames]
    assert skews == [0.005, -0.01, -0.005, -0.01]
    assert all(f.sensor[0].pixels.shape == (120, 160) for f in frames)


def test_a_nir_frame_too_far_in_time_is_not_attached() -> None:
    colour = ListSource([0.0, 0.04, 0.08], value=0)
    nir = ListSource([0.0, 0.2], value=100)  # the NIR camera stalls after its first frame
    frames = _read_all(PairedSource(colour, nir, max_skew_s=0.02))
    assert [len(f.sensor) for f in frames] == [1, 0, 0]


def test_a_failing_or_ended_nir_camera_leaves_frames_without_nir() -> None:
    colour = ListSource([0.0, 0.04, 0.08], value=0)
    nir = ListSource([0.0], value=100, fail_at={1, 2, 3})
    source = PairedSource(colour, nir, max_skew_s=0.05)
    frames = _read_all(source)
    assert len(frames) == 3
    assert [len(f.sensor) for f in frames] == [1, 1, 0]  # 0.04 s from 0.0 is within 0.05 s
    assert source.nir_failures >= 1
    source.close()
    assert colour.closed
    assert nir.closed


def test_the_colour_camera_failing_is_the_source_failing() -> None:
    source = PairedSource(ListSource([0.0], 0, fail_at={0}), ListSource([0.0], 100))
    with pytest.raises(CameraFailedError):
        source.read()


def test_nir_pixels_registration_maps_to_the_colour_grid() -> None:
    nir = np.zeros((60, 80), dtype=np.uint8)
    nir[10, 20] = 255
    shift = np.array([[1.0, 0, 5], [0, 1.0, 3], [0, 0, 1.0]])
    mapped = nir_pixels(nir, (80, 60), shift)
    assert mapped.dtype == np.float32
    assert mapped[13, 25] == 255.0
    assert nir_pixels(nir, (160, 120)).shape == (120, 160)


def _colour() -> FaceFrame:
    return FaceFrame(np.zeros((120, 160, 3), np.uint8), FACE, LANDMARKS)


def _nir(skew_s: float = 0.0, kind: str = "nir") -> SensorFrame:
    return SensorFrame(kind, np.full((120, 160), 90.0, np.float32), skew_s)


def _cue(boxes: list[Box]) -> NirCue:
    return NirCue(lambda image: boxes, max_skew_s=0.04, min_iou=0.4)


def test_nir_cue_accepts_a_nir_face_at_the_colour_face() -> None:
    result = _cue([Box(42, 32, 102, 98)]).measure([_colour()], [_nir(0.01)])
    assert result.live
    assert result.score == pytest.approx(box_iou(Box(42, 32, 102, 98), FACE))


@pytest.mark.parametrize(
    ("boxes", "sensor", "why"),
    [
        ([FACE], [], "no NIR frame"),
        ([FACE], [_nir(kind="depth")], "no NIR frame"),
        ([FACE], [_nir(0.2)], "stale NIR frame"),
        ([FACE], [_nir(float("nan"))], "stale NIR frame"),
        ([], [_nir()], "no NIR face"),
        ([Box(110, 10, 150, 50)], [_nir()], "no NIR face"),
    ],
)
def test_nir_cue_fails_closed(boxes: list[Box], sensor: list[SensorFrame], why: str) -> None:
    result = _cue(boxes).measure([_colour()], sensor)
    assert not result.live
    assert result.error is not None
    assert why in result.error


def test_nir_cue_refuses_a_frame_off_the_colour_grid() -> None:
    small = SensorFrame("nir", np.zeros((60, 80), np.float32))
    assert not _cue([FACE]).measure([_colour()], [small]).live


def test_the_check_reads_the_nir_frame_paired_with_the_newest_frame() -> None:
    check = FusedLivenessCheck(sensor_cues=[_cue([FACE])])
    paired = FaceFrame(_colour().image, FACE, LANDMARKS, (_nir(),))
    assert check.check([_colour(), paired]).live
    refused = check.check([paired, _colour()])  # the newest frame carries no NIR frame
    assert not refused.live
    assert "no nir frame" in refused.note
