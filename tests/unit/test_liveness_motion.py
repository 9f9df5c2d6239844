"""The multi-frame cue on synthetic scenes: a moved plane against parallax and blinks."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.liveness.motion import MotionSettings, motion_cue, openness_changes
from facegate.vision.liveness.synthetic import PlanarMotion, planar_attack, plane_homography

SIZE = 240
BOX = Box(60, 60, 180, 180)
LANDMARKS = FivePointLandmarks(
    points=((150.0, 100.0), (130.0, 100.0), (90.0, 100.0), (110.0, 100.0), (120.0, 140.0))
)


def texture(seed: int) -> np.ndarray:
    """A smooth random RGB texture with plenty of corners."""
    noise = np.random.default_rng(seed).uniform(0, 255, (SIZE // 4, SIZE // 4, 3))
    return np.asarray(cv2.resize(noise, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC), np.uint8)


def test_plane_homography_is_identity_at_rest() -> None:
    assert plane_homography((SIZE, SIZE), (0, 0, 0), (0, 0, 0)) == pytest.approx(np.eye(3))


def test_a_moved_plane_is_not_live() -> None:
    frames = planar_attack(texture(1), BOX, LANDMARKS, 12, np.random.default_rng(3))
    result = motion_cue(frames, MotionSettings())
    assert result.error is None
    assert result.details["motion"] > 0.01  # it did move
    assert result.details["parallax"] < MotionSettings().parallax_threshold
    assert not result.live


def parallax_scene(steps: int, nose_shift_px: float) -> list[FaceFrame]:
    """A plane sliding right 1 px a frame, and a nearer square (a "nose") on it.

    The square slides ``1 + nose_shift_px`` pixels a frame: with 0 it is painted on the
    plane, with more it is nearer the camera than the plane (parallax).
    """
    back, front = texture(4), texture(5)
    square = np.zeros((SIZE, SIZE), dtype=np.uint8)
    square[100:150, 95:145] = 1
    frames = []
    for k in range(steps):

        def slide(pixels: np.ndarray, speed: float, step: int = k) -> np.ndarray:
            shift = np.float32([[1, 0, speed * step], [0, 1, 0]])
            return cv2.warpAffine(pixels, shift, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)

        image = slide(back, 1.0)
        speed = 1.0 + nose_shift_px
        inside = slide(square, speed).astype(bool)
        image[inside] = slide(front, speed)[inside]
        frames.append(FaceFrame(image, BOX, LANDMARKS))
    return frames


def test_parallax_between_depths_is_live() -> None:
    result = motion_cue(parallax_scene(12, nose_shift_px=0.6), MotionSettings())
    assert result.error is None
    assert result.details["parallax"] > MotionSettings().parallax_threshold
    assert result.live


def test_the_same_scene_without_parallax_is_not_live() -> None:
    result = motion_cue(parallax_scene(12, nose_shift_px=0.0), MotionSettings())
    assert result.error is None
    assert not result.live


def test_motion_at_the_face_regions_edge_is_not_parallax() -> None:
    # A band across the bottom of the face's flow region (a collar, the lower edge of a
    # sheet with the room behind it) slides faster than the face: not depth of the face.
    # Suite v3's planar prints set the old threshold by such edges (flow noise on a
    # dark, textureless corner); parallax is measured over the region's middle.
    back, band_texture = texture(4), texture(5)
    band = np.zeros((SIZE, SIZE), dtype=np.uint8)
    band[146:180, 40:200] = 1
    frames = []
    for k in range(12):

        def slide(pixels: np.ndarray, speed: float, step: int = k) -> np.ndarray:
            shift = np.float32([[1, 0, speed * step], [0, 1, 0]])
            return cv2.warpAffine(pixels, shift, (SIZE, SIZE), borderMode=cv2.BORDER_REFLECT)

        image = slide(back, 1.0)
        inside = slide(band, 1.6).astype(bool)
        image[inside] = slide(band_texture, 1.6)[inside]
        frames.append(FaceFrame(image, BOX, LANDMARKS))
    result = motion_cue(frames, MotionSettings())
    assert result.error is None
    assert result.details["parallax"] < MotionSettings().parallax_threshold
    assert not result.live


def test_a_blink_on_a_still_face_is_live() -> None:
    face = texture(6)
    frames = [FaceFrame(face, BOX, LANDMARKS) for _ in range(8)]
    closed = face.copy()
    closed[92:108, 82:118] = 90  # the eye on the image's left shuts
    for shut in (3, 4, 5):  # a blink spans a few frames
        frames[shut] = FaceFrame(closed, BOX, LANDMARKS)
    settings = MotionSettings(eye_change_threshold=0.5)
    result = motion_cue(frames, settings)
    assert result.details["parallax"] < settings.parallax_threshold
    assert result.details["eye_change"] > settings.eye_change_threshold
    assert result.live
    # One odd frame (a tracking slip) is not a blink.
    frames = [FaceFrame(face, BOX, LANDMARKS) for _ in range(8)]
    frames[4] = FaceFrame(closed, BOX, LANDMARKS)
    assert not motion_cue(frames, settings).live


def _eye(shut: dict[int, float]) -> list[float]:
    """One eye's openness on 8 frames: 0.35 open, ``shut`` values on the frames given."""
    return [shut.get(n, 0.35) for n in range(8)]


def _openness(left: list[float], right: list[float]) -> np.ndarray:
    return np.column_stack([left, right, np.full(len(left), 0.05)])


def test_blink_is_both_eyes_drop_below_their_median_held_two_frames() -> None:
    # Both eyes shut to 0.14 and 0.21 on frames 3-4: drops 0.6 and 0.4, the smaller held.
    blink = openness_changes(_openness(_eye({3: 0.14, 4: 0.14}), _eye({3: 0.21, 4: 0.21})))
    assert blink["blink"] == pytest.approx(0.4)
    assert blink["speech"] == pytest.approx(0.0)
    # One frame's jitter, however large, is not a blink (the lid model's noise on prints).
    jitter = _eye({4: 0.1})
    assert openness_changes(_openness(jitter, jitter))["blink"] == pytest.approx(0.0)
    # One eye alone is not a blink.
    one_eye = openness_changes(_openness(_eye({3: 0.1, 4: 0.1}), _eye({})))
    assert one_eye["blink"] == pytest.approx(0.0)


def test_too_few_frames_or_points_fail_closed() -> None:
    short = planar_attack(texture(7), BOX, LANDMARKS, 3, np.random.default_rng(0))
    result = motion_cue(short, MotionSettings())
    assert not result.live
    assert result.error is not None
    assert "frames" in result.error
    flat = np.full((SIZE, SIZE, 3), 128, dtype=np.uint8)
    result = motion_cue([FaceFrame(flat, BOX, LANDMARKS) for _ in range(8)], MotionSettings())
    assert not result.live
    assert result.error is not None
    assert "points" in result.error


def test_noise_alone_is_not_live() -> None:
    motion = PlanarMotion(max_tilt_deg=0.0, max_roll_deg=0.0, max_shift=0.0, max_depth=0.0)
    frames = planar_attack(texture(8), BOX, LANDMARKS, 10, np.random.default_rng(1), motion)
    assert not motion_cue(frames, MotionSettings()).live


def test_the_parallax_of_a_pair_does_not_depend_on_what_was_measured_before() -> None:
    """One DIS object kept per thread took its pyramid from a small region measured
    earlier (a face near the frame's edge): every later parallax of that thread changed
    (a live webcam face's first check 0.0015 -> 0.0035 after 25 print clips)."""
    from facegate.vision.liveness.motion_steps import parallax

    rng = np.random.default_rng(7)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (160, 150)).astype(np.float32), (0, 0), 2.0)
    first = cv2.normalize(scene, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    bulge = np.fromfunction(
        lambda y, x: 3.0 * np.exp(-((x - 75) ** 2 + (y - 80) ** 2) / 800.0), first.shape
    )
    xs, ys = np.meshgrid(np.arange(150, dtype=np.float32), np.arange(160, dtype=np.float32))
    later = cv2.remap(first, xs - bulge.astype(np.float32), ys, cv2.INTER_LINEAR)
    before = parallax(first, later, 100.0)
    small = np.ascontiguousarray(first[:20, :30])
    parallax(small, np.roll(small, 1, axis=1), 20.0)
    assert parallax(first, later, 100.0) == before


def test_each_frame_is_measured_once_and_checks_combine_what_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two overlapping checks (as the schedule makes) measure each frame once.

    Each frame is converted to grey once and followed from the frame before it once
    (Lucas-Kanade forward and backward); the second check makes steps only for its new
    frames, and a check again on the same frames computes nothing and gives the same.
    """
    from facegate.vision.liveness import motion_steps

    frames = parallax_scene(18, 1.0)
    converted: list[int] = []
    followed: list[int] = []
    grey, track = cv2.cvtColor, cv2.calcOpticalFlowPyrLK

    def counting_grey(image: np.ndarray, code: int) -> np.ndarray:
        converted.append(id(image))
        return grey(image, code)

    def counting_track(*args: object, **kwargs: object) -> object:
        followed.append(1)
        return track(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(motion_steps.cv2, "cvtColor", counting_grey)
    monkeypatch.setattr(motion_steps.cv2, "calcOpticalFlowPyrLK", counting_track)
    first = motion_cue(frames[:12], MotionSettings())
    second = motion_cue(frames[6:], MotionSettings())
    assert len(converted) == len(set(converted)) == 18
    assert len(followed) == 2 * 17  # one pair per frame after the first
    assert motion_cue(frames[6:], MotionSettings()) == second
    assert len(converted) == 18
    assert len(followed) == 2 * 17
    assert first.error is None
    assert second.error is None
    assert second.details["frames"] == 12  # frames 6-17 of the chain started at frame 0
    # A frame made from another with new pixels starts with nothing kept.
    assert dataclasses.replace(frames[6], image=frames[7].image).work == {}


def test_a_plane_moved_every_way_for_seconds_stays_flat_pair_by_pair() -> None:
    """Four pose-to-pose moves over 50 frames, judged over the whole span at once.

    The homographies are chained frame to frame, so the span's residual stays that of a
    plane however far it moved from the first frame (one homography from the first frame
    to the last broke on such a print before).
    """
    frames = planar_attack(texture(9), BOX, LANDMARKS, 50, np.random.default_rng(5), moves=4)
    result = motion_cue(frames, MotionSettings())
    assert result.error is None
    assert result.details["frames"] == 50
    assert result.details["motion"] > 0.05
    assert result.details["parallax"] < MotionSettings().parallax_threshold
    assert not result.live


def test_a_lost_track_restarts_the_chain_and_a_short_rest_fails_closed() -> None:
    frames = parallax_scene(12, nose_shift_px=0.6)
    flat = np.full((SIZE, SIZE, 3), 128, dtype=np.uint8)
    frames[8] = FaceFrame(flat, BOX, LANDMARKS)  # nothing to follow into or out of
    result = motion_cue(frames, MotionSettings())
    assert not result.live
    assert result.error is not None
    assert "followed through 3 frames only" in result.error
    assert "points" in result.error


def test_a_chain_keeps_at_most_max_steps() -> None:
    """Memory is bounded: a step links back at most ``max_steps`` frames."""
    from facegate.vision.liveness.motion_steps import STEP_KEY, Step

    frames = parallax_scene(14, nose_shift_px=0.6)
    settings = MotionSettings(max_steps=8)
    result = motion_cue(frames, settings)
    assert result.details["frames"] == 8
    step = frames[-1].work[STEP_KEY]
    assert isinstance(step, Step)
    assert len(step.span(None, 100)) == 8


def test_frames_are_measured_as_they_come_so_a_check_measures_only_its_newest() -> None:
    """Before the first check is due, each frame is measured as it comes (``prepare``).

    The first check at 0.4 s would otherwise measure its 10 frames at once (the spike
    on the frame that decides).
    """
    from facegate.domain.liveness import LivenessSchedule
    from facegate.vision.liveness.check import FusedLivenessCheck, run_schedule
    from facegate.vision.liveness.motion_steps import STEP_KEY

    unmeasured: list[int] = []

    class Watching(FusedLivenessCheck):
        def check(self, frames, second_sensor=()):  # type: ignore[no-untyped-def]
            unmeasured.append(sum(STEP_KEY not in f.work for f in frames))
            return super().check(frames, second_sensor)

    frames = parallax_scene(14, nose_shift_px=0.0)
    outcome = run_schedule(Watching(motion=MotionSettings()), frames, LivenessSchedule(), 25.0)
    assert outcome.windows == 4  # frames 10-13: 0.4 s on, every frame
    assert unmeasured == [1, 1, 1, 1]
