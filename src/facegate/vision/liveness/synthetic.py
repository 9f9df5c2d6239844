"""Synthetic planar attacks: a still photo moved like a hand-held print in front of a camera.

Used to measure the multi-frame cue (and calibrate it on photos that are not reported):
the photo is a plane at distance ``d`` facing the camera; each frame turns it about its
own centre (tilt, turn, roll), shifts and brings it nearer or farther, slowly, and adds
sensor noise. A point ``p`` of the first view maps to ``H p`` with
``H = K (d R + ((I - R) C + t) e3^T) K^-1`` (``C`` the plane's centre, ``t`` the shift).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.images import RgbImage

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PlanarMotion:
    """How far a synthetic print moves over one sequence (drawn uniformly up to these).

    Attributes:
        max_tilt_deg: rotation about the horizontal and vertical axes (default 12).
        max_roll_deg: rotation in the image plane (default 4).
        max_shift: sideways shift as a share of the distance (default 0.03).
        max_depth: change of distance as a share of it (default 0.05).
        noise_sigma: Gaussian sensor noise in grey levels (default 2.0).
    """

    max_tilt_deg: float = 12.0
    max_roll_deg: float = 4.0
    max_shift: float = 0.03
    max_depth: float = 0.05
    noise_sigma: float = 2.0


def _rotation(tilt_x: float, tilt_y: float, roll: float) -> Matrix:
    matrix, _ = cv2.Rodrigues(np.radians([tilt_x, tilt_y, roll]).astype(np.float64))
    return np.asarray(matrix, dtype=np.float64)


def plane_homography(
    size: tuple[int, int], angles_deg: npt.ArrayLike, shift: npt.ArrayLike
) -> Matrix:
    """The homography of a fronto-parallel plane turned by ``angles_deg`` and moved by ``shift``.

    Args:
        size: image ``(width, height)``; the focal length is the width (about 53 degrees).
        angles_deg: rotation ``(about x, about y, about z)`` in degrees.
        shift: ``(x, y, z)`` translation as shares of the plane's distance.
    """
    width, height = size
    focal = float(width)
    k = np.array([[focal, 0, width / 2.0], [0, focal, height / 2.0], [0, 0, 1.0]])
    distance = 1.0
    rotation = _rotation(*np.asarray(angles_deg, dtype=np.float64))
    centre = np.array([0.0, 0.0, distance])
    offset = (np.eye(3) - rotation) @ centre + np.asarray(shift, dtype=np.float64) * distance
    plane = distance * rotation + np.outer(offset, [0.0, 0.0, 1.0])
    homography = k @ plane @ np.linalg.inv(k)
    return np.asarray(homography / homography[2, 2], dtype=np.float64)


def _moved_box(box: Box, homography: Matrix) -> Box:
    corners = np.array(
        [
            [box.left, box.top],
            [box.right, box.top],
            [box.right, box.bottom],
            [box.left, box.bottom],
        ],
        dtype=np.float64,
    ).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(corners, homography).reshape(-1, 2)
    left, top = np.floor(moved.min(axis=0)).astype(int)
    right, bottom = np.ceil(moved.max(axis=0)).astype(int)
    return Box(int(left), int(top), int(right), int(bottom))


def _moved_landmarks(landmarks: FivePointLandmarks, homography: Matrix) -> FivePointLandmarks:
    points = np.array(landmarks.points, dtype=np.float64).reshape(-1, 1, 2)
    moved = cv2.perspectiveTransform(points, homography).reshape(-1, 2)
    p = [(float(x), float(y)) for x, y in moved]
    return FivePointLandmarks(points=(p[0], p[1], p[2], p[3], p[4]))


def planar_attack(
    photo: RgbImage,
    box: Box,
    landmarks: FivePointLandmarks,
    frames: int,
    rng: np.random.Generator,
    motion: PlanarMotion | None = None,
    moves: int = 1,
) -> list[FaceFrame]:
    """``frames`` views of ``photo`` moved as a plane through ``moves`` random poses.

    Args:
        photo: the still photo (RGB).
        box: its face box; moved with the plane into each frame.
        landmarks: its face's 5 points; moved likewise.
        frames: how many frames.
        rng: the random source of the poses.
        motion: how far it may move.
        moves: how many pose-to-pose moves the sequence makes (more is faster).
    """
    still = FaceFrame(photo, box, landmarks)
    return planar_replay([still] * frames, rng, motion, moves)


def planar_replay(
    shown: list[FaceFrame],
    rng: np.random.Generator,
    motion: PlanarMotion | None = None,
    moves: int = 1,
) -> list[FaceFrame]:
    """``shown`` (a photo repeated, or a video's frames) on a plane moved through poses.

    A video replayed on a hand-held tablet is this with the video's own frames: the face
    on the screen moves and blinks as the recorded person did, so the multi-frame cue is
    not expected to stop it (that is the texture cue's and a second sensor's job).

    Args:
        shown: what the plane shows, one frame per output frame, with its face.
        rng: the random source of the poses.
        motion: how far it may move.
        moves: how many pose-to-pose moves the sequence makes (more is faster).
    """
    motion = motion or PlanarMotion()
    limits = np.array([motion.max_tilt_deg, motion.max_tilt_deg, motion.max_roll_deg])
    shifts = np.array([motion.max_shift, motion.max_shift, motion.max_depth])
    poses = [rng.uniform(-limits, limits) for _ in range(moves + 1)]
    places = [rng.uniform(-shifts, shifts) for _ in range(moves + 1)]
    sequence = []
    for frame, step in zip(shown, np.linspace(0.0, 1.0, len(shown)), strict=True):
        height, width = frame.image.shape[:2]
        leg = min(int(step * moves), moves - 1)
        smooth = 0.5 - 0.5 * np.cos(np.pi * (step * moves - leg))
        homography = plane_homography(
            (width, height),
            poses[leg] + (poses[leg + 1] - poses[leg]) * smooth,
            places[leg] + (places[leg + 1] - places[leg]) * smooth,
        )
        warped = cv2.warpPerspective(
            frame.image, homography, (width, height), borderMode=cv2.BORDER_REFLECT
        ).astype(np.float64)
        noisy = warped + rng.normal(0.0, motion.noise_sigma, warped.shape)
        image = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        box = _moved_box(frame.box, homography)
        sequence.append(FaceFrame(image, box, _moved_landmarks(frame.landmarks, homography)))
    return sequence
