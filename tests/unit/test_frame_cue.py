"""The single-frame screen-and-print cue: each measure on drawn scenes, the combination."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.frame_cue import SHIPPED, FrameCueWeights, fit_weights, frame_cue
from facegate.vision.liveness.frame_measures import MEASURES, REDNESS_FULL, measure_frame

FACE = Box(260, 180, 380, 320)
LANDMARKS = FivePointLandmarks(points=((345, 230), (330, 230), (295, 230), (310, 230), (320, 280)))


def _scene(seed: int = 0) -> np.ndarray:
    """A noisy room (no straight edges) with a skin-coloured face blob at FACE."""
    rng = np.random.default_rng(seed)
    room = cv2.GaussianBlur(rng.integers(60, 200, (480, 640, 3)).astype(np.uint8), (0, 0), 6)
    face = np.zeros_like(room)
    cv2.ellipse(face, (320, 250), (60, 70), 0, 0, 360, (200, 140, 120), -1)
    mask = face.any(axis=2)
    room[mask] = face[mask]
    noise = rng.normal(0, 6, room.shape)
    return np.clip(room + noise, 0, 255).astype(np.uint8)


def _measure(image: np.ndarray) -> dict[str, float]:
    return dict(zip(MEASURES, measure_frame(image, FACE), strict=True))


def test_a_bezel_around_the_face_shows_as_frame_sides() -> None:
    plain = _scene()
    held = plain.copy()
    cv2.rectangle(held, (150, 60), (490, 440), (15, 15, 15), 14)  # a phone's dark bezel
    assert _measure(plain)["frame_sides"] < 0.5
    assert _measure(held)["frame_sides"] >= 3.5


def test_a_pixel_grid_on_the_face_shows_as_a_spectral_peak() -> None:
    plain = _scene()
    grid = plain.astype(np.float64)
    _ys, xs = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    grid += 25.0 * np.sin(2 * np.pi * xs / 3.0)[:, :, None]  # a screen's sub-pixel stripes
    screen = np.clip(grid, 0, 255).astype(np.uint8)
    assert _measure(screen)["spectral_peak_db"] > _measure(plain)["spectral_peak_db"] + 10.0


def test_glare_cast_and_sharpness_measure_what_they_say() -> None:
    plain = _scene()
    glared = plain.copy()
    cv2.circle(glared, (300, 210), 25, (255, 255, 255), -1)
    assert _measure(glared)["glare"] > _measure(plain)["glare"] + 0.02
    pale = plain.astype(np.float64)
    grey = pale.mean(axis=2, keepdims=True)
    pale = np.clip(0.2 * pale + 0.8 * grey + 20.0, 0, 255).astype(np.uint8)  # re-shown, washed out
    assert _measure(plain)["skin_redness"] == REDNESS_FULL  # a red face: the cap
    assert _measure(pale)["skin_redness"] < REDNESS_FULL - 3.0
    blurred = plain.copy()
    region = np.s_[FACE.top : FACE.bottom, FACE.left : FACE.right]
    blurred[region] = cv2.GaussianBlur(plain[region], (0, 0), 3)
    assert _measure(blurred)["sharpness_ratio"] < _measure(plain)["sharpness_ratio"] - 0.5


@pytest.mark.parametrize("box", [Box(0, 0, 10, 10), Box(700, 500, 800, 600)])
def test_a_box_that_cannot_be_measured_is_not_live(box: Box) -> None:
    result = frame_cue(FaceFrame(_scene(), box, LANDMARKS))
    assert not result.live
    assert result.error is not None


def test_fit_weights_separates_and_keeps_its_live_refusals_bounded() -> None:
    rng = np.random.default_rng(1)
    live = rng.normal(0.0, 1.0, (200, len(MEASURES)))
    attack = rng.normal(0.0, 1.0, (200, len(MEASURES)))
    attack[:, 0] += 3.0  # attacks show more frame sides
    weights = fit_weights(np.concatenate([live, attack]), np.array([1] * 200 + [0] * 200))
    assert weights.weights[0] < 0
    live_scores = np.array([weights.score(row) for row in live])
    attack_scores = np.array([weights.score(row) for row in attack])
    assert np.mean(live_scores < weights.threshold) <= 0.02
    assert np.mean(attack_scores >= weights.threshold) < 0.5


def test_fit_weights_refuses_too_little_data() -> None:
    with pytest.raises(ValueError, match="at least 10"):
        fit_weights(np.zeros((12, len(MEASURES))), np.array([1] * 6 + [0] * 6))


def test_weights_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="values each"):
        FrameCueWeights((0.0,), (1.0,), (1.0,), 0.0, 0.5)
    with pytest.raises(ValueError, match="scales must be positive"):
        FrameCueWeights(*([(0.0,) * len(MEASURES)] * 3), 0.0, 0.5)  # zero scales


def test_the_layered_check_runs_the_frame_cue_and_fails_closed() -> None:
    check = FusedLivenessCheck(frame=SHIPPED)
    verdict = check.check([FaceFrame(_scene(), Box(0, 0, 10, 10), LANDMARKS)])
    assert check.cue_names == ("frame",)
    assert not verdict.live
    assert "frame" in verdict.cues


def test_fingers_beside_the_face_show_as_hand_skin() -> None:
    plain = _scene()
    held = plain.copy()
    for x in (140, 165, 470, 495):  # fingers gripping a phone on both sides
        cv2.rectangle(held, (x, 170), (x + 18, 300), (205, 145, 125), -1)
    assert _measure(held)["hand_skin"] > _measure(plain)["hand_skin"] + 0.1


def test_a_blue_white_balance_does_not_make_live_skin_pale() -> None:
    """A blue cast lowered version 2's Cr - Cb; it moves b*, so redness (a*) must not fall."""
    plain = _scene()
    cool = plain.astype(np.float64) * np.array([1.0, 1.0, 1.2])  # bluish daylight on a live face
    cool = np.clip(cool, 0, 255).astype(np.uint8)
    assert _measure(cool)["skin_redness"] > _measure(plain)["skin_redness"] - 2.0


def test_a_weight_against_its_physical_direction_is_dropped() -> None:
    rng = np.random.default_rng(2)
    live = rng.normal(0.0, 1.0, (200, len(MEASURES)))
    attack = rng.normal(0.0, 1.0, (200, len(MEASURES)))
    attack[:, 0] += 2.0  # more frame sides: an attack, rightly
    attack[:, 4] += 2.0  # a redder face on the attacks: an artefact of the data
    weights = fit_weights(np.concatenate([live, attack]), np.array([1] * 200 + [0] * 200))
    assert weights.weights[0] < 0
    assert weights.weights[4] == 0.0


def test_an_unweighted_measure_gets_no_weight_even_when_it_separates() -> None:
    rng = np.random.default_rng(3)
    live = rng.normal(0.0, 1.0, (200, len(MEASURES)))
    attack = rng.normal(0.0, 1.0, (200, len(MEASURES)))
    hand = MEASURES.index("hand_skin")
    attack[:, hand] += 3.0  # more skin beside the face on the attacks
    attack[:, 0] += 1.0
    labels = np.array([1] * 200 + [0] * 200)
    assert fit_weights(np.concatenate([live, attack]), labels, unweighted=()).weights[hand] < 0
    assert fit_weights(np.concatenate([live, attack]), labels).weights[hand] == 0.0
