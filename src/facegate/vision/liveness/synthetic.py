"""Synthetic planar attacks: a still photo moved like a hand-held print in front of a camera.

Used to measure the multi-frame cue (and calibrate it on photos that are not reported):
the photo is a plane at distance ``d`` facing the camera; each frame turns it about its
own centre (tilt, turn, roll), shifts and brings it nearer or farther, slowly, and adds
sensor noise. A point ``p`` of the first view maps to ``H p`` with
``H = K (d R + ((I - R) C + t) e3^T) K^-1`` (``C`` the plane's centre, ``t`` the shift).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.faces import Box, FivePointLandmarks
from facegate.domain.liveness import FaceFrame
from facegate.vision.images import RgbImage

Matrix = npt.NDArray[np.float64]
Layer = npt.NDArray[np.float32]


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


def rotation(tilt_x: float, tilt_y: float, roll: float) -> Matrix:
    """The rotation matrix of angles (degrees) about the x, y and z axes (Rodrigues)."""
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
    turn = rotation(*np.asarray(angles_deg, dtype=np.float64))
    centre = np.array([0.0, 0.0, distance])
    offset = (np.eye(3) - turn) @ centre + np.asarray(shift, dtype=np.float64) * distance
    plane = distance * turn + np.outer(offset, [0.0, 0.0, 1.0])
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


# --- Rendered scenes: a print or a screen as a surface in front of a camera -------------

MOTIONS = ("still", "translate", "rotate", "zoom", "tilt", "shake", "combined")
"""How a hand-held print or screen moves over a presentation (see :func:`trajectory`)."""


@dataclass(frozen=True, slots=True)
class Camera:
    """A pinhole camera looking along +z.

    Attributes:
        width: frame width, pixels.
        height: frame height, pixels.
        focal_px: focal length, pixels (the default, the width, is about 53 degrees wide).
    """

    width: int = 480
    height: int = 360
    focal_px: float = 480.0

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels."""
        return self.width, self.height

    def project(self, points: Matrix) -> Matrix:
        """``(n, 3)`` camera coordinates to ``(n, 2)`` pixels."""
        z = np.maximum(points[:, 2:3], 1e-6)
        centre = np.array([self.width / 2.0, self.height / 2.0])
        return np.asarray(points[:, :2] / z * self.focal_px + centre, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Pose:
    """Where a surface is: rotation about its own centre and the centre's position.

    Attributes:
        angles_deg: rotation about the camera's x (tilt up/down), y (turn) and z (roll)
            axes, degrees.
        position: the surface centre in camera coordinates, in units of the nominal
            distance (``z = 1`` is the nominal distance; ``z = 1 / zoom``).
    """

    angles_deg: tuple[float, float, float]
    position: tuple[float, float, float]


@dataclass(frozen=True, slots=True)
class Surface:
    """A flat or bent sheet with an image on it (a print, or a screen with its bezel).

    Attributes:
        texture: the RGB pixels on the sheet.
        metres_per_px: size of one texture pixel, in units of the nominal distance.
        curvature: 1 / bending radius (same units; 0 is flat). The sheet bends about its
            vertical axis, the edges away from the camera.
        alpha: optional ``(h, w)`` uint8 mask of where the sheet is (holes cut out: 0).
    """

    texture: RgbImage
    metres_per_px: float
    curvature: float = 0.0
    alpha: npt.NDArray[np.uint8] | None = None


def surface_points(surface: Surface, pose: Pose, uv: Matrix) -> Matrix:
    """Camera coordinates ``(n, 3)`` of texture pixels ``uv`` ``(n, 2)`` on the posed sheet."""
    height, width = surface.texture.shape[:2]
    s = surface.metres_per_px
    x = (uv[:, 0] - width / 2.0) * s
    y = (uv[:, 1] - height / 2.0) * s
    z = np.zeros_like(x)
    if surface.curvature > 0:
        radius = 1.0 / surface.curvature
        x, z = radius * np.sin(x / radius), radius * (1.0 - np.cos(x / radius))
    local = np.stack([x, y, z], axis=1)
    turn = rotation(*pose.angles_deg)
    return np.asarray(local @ turn.T + np.asarray(pose.position), dtype=np.float64)


def surface_pixels(surface: Surface, pose: Pose, camera: Camera, uv: Matrix) -> Matrix:
    """Frame pixels ``(n, 2)`` of texture pixels ``uv`` ``(n, 2)``."""
    return camera.project(surface_points(surface, pose, uv))


def surface_layer(
    surface: Surface, pose: Pose, camera: Camera, strips: int = 1, supersample: int = 1
) -> tuple[Layer, Layer]:
    """``surface`` at ``pose`` alone: its colour times its cover, and its cover (0-1).

    Both are ``float32`` at the camera's size, ``(h, w, 3)`` and ``(h, w)``; a frame
    behind it becomes ``frame * (1 - cover) + colour``. A bent sheet is drawn as
    ``strips`` vertical flat strips, each by its own homography. Resampling is bilinear
    without a low-pass filter, at ``supersample`` squared points per camera pixel
    averaged (1: point sampling, as a sensor samples a finer pattern, so a screen's
    pixel grid or a print's halftone can alias into moire; more: the sensor pixel's
    area averages part of it away).
    """
    height, width = surface.texture.shape[:2]
    alpha = surface.alpha if surface.alpha is not None else np.full((height, width), 255, np.uint8)
    k = max(int(supersample), 1)
    fine = (camera.width * k, camera.height * k)
    zoom = np.diag([float(k), float(k), 1.0])
    colour = np.zeros((fine[1], fine[0], 3), dtype=np.float32)
    cover = np.zeros((fine[1], fine[0]), dtype=np.float32)
    edges = np.linspace(0.0, float(width), max(strips, 1) + 1)
    for left, right in itertools.pairwise(edges):
        corners = np.array([[left, 0], [right, 0], [right, height], [left, height]], np.float64)
        moved = surface_pixels(surface, pose, camera, corners)
        homography = zoom @ cv2.getPerspectiveTransform(
            corners.astype(np.float32), moved.astype(np.float32)
        )
        strip = np.zeros_like(alpha)
        strip[:, int(np.floor(left)) : int(np.ceil(right))] = alpha[
            :, int(np.floor(left)) : int(np.ceil(right))
        ]
        warped = cv2.warpPerspective(surface.texture, homography, fine).astype(np.float32)
        part = cv2.warpPerspective(strip, homography, fine).astype(np.float32) / 255.0
        # Over: what this strip covers replaces what the strips before it drew there.
        colour += (warped - colour) * part[..., None]
        cover += part * (1.0 - cover)
    if k == 1:
        return colour, cover
    return (
        np.asarray(cv2.resize(colour, camera.size, interpolation=cv2.INTER_AREA), np.float32),
        np.asarray(cv2.resize(cover, camera.size, interpolation=cv2.INTER_AREA), np.float32),
    )


def render_surface(
    frame: RgbImage,
    surface: Surface,
    pose: Pose,
    camera: Camera,
    strips: int = 1,
    supersample: int = 1,
    focus_sigma_px: float = 0.0,
) -> None:
    """Draw ``surface`` at ``pose`` into ``frame`` (in place; see :func:`surface_layer`).

    ``focus_sigma_px`` (camera pixels) blurs the surface alone, as a camera focused
    elsewhere blurs a sheet: its own sharpness is not the room's.
    """
    colour, cover = surface_layer(surface, pose, camera, strips, supersample)
    if focus_sigma_px > 0.0:
        colour = np.asarray(cv2.GaussianBlur(colour, (0, 0), focus_sigma_px), np.float32)
        cover = np.asarray(cv2.GaussianBlur(cover, (0, 0), focus_sigma_px), np.float32)
    blend = frame.astype(np.float32) * (1.0 - cover[..., None]) + colour
    frame[:] = np.clip(np.rint(blend), 0, 255).astype(np.uint8)


def _eased_path(rng: np.random.Generator, steps: int, limit: float, moves: int) -> Matrix:
    """A smooth path of ``steps`` values through ``moves + 1`` random stops in ``±limit``."""
    stops = rng.uniform(-limit, limit, moves + 1)
    t = np.linspace(0.0, 1.0, steps) * moves
    leg = np.minimum(t.astype(int), moves - 1)
    ease = 0.5 - 0.5 * np.cos(np.pi * (t - leg))
    return np.asarray(stops[leg] + (stops[leg + 1] - stops[leg]) * ease, dtype=np.float64)


def _tremor(rng: np.random.Generator, times_s: Matrix, amplitude: float) -> Matrix:
    """Hand tremor: three sines of 4-10 Hz with random phases, peak about ``amplitude``."""
    total = np.zeros_like(times_s)
    for _ in range(3):
        hz, phase = rng.uniform(4.0, 10.0), rng.uniform(0.0, 2 * np.pi)
        total += np.sin(2 * np.pi * hz * times_s + phase) * rng.uniform(0.2, 0.45) * amplitude
    return total


def trajectory(
    motion: str, frames: int, fps: float, rng: np.random.Generator, base: Pose
) -> list[Pose]:
    """Poses of a hand-held sheet over ``frames`` frames at ``fps`` (one motion type).

    Motion types (:data:`MOTIONS`): ``still`` (held still: a tremor of 0.2 degrees),
    ``translate`` (sideways and up-down by up to 0.15 of the distance), ``rotate`` (roll
    up to 30 degrees), ``zoom`` (apparent size 0.7-1.4x), ``tilt`` (perspective tilt and
    turn up to 30 degrees), ``shake`` (hand shake: a 4-10 Hz tremor of up to 3 degrees
    and 1.5 % of the distance on a slow drift), ``combined`` (all at once). Each moving
    type makes 1-4 eased moves over the presentation; every type but ``still`` adds
    a light tremor. Several types joined by ``+`` (``rotate+zoom``) move at once.

    Raises:
        ValueError: an unknown motion type.
    """
    kinds = set(motion.split("+"))
    if not kinds <= set(MOTIONS):
        raise ValueError(f"unknown motion {motion!r}; expected one of {', '.join(MOTIONS)}")
    times = np.arange(frames) / fps
    moves = int(rng.integers(1, 5))
    zero = np.zeros(frames)
    moving = kinds != {"still"}

    def path(active: bool, limit: float) -> Matrix:
        return _eased_path(rng, frames, limit, moves) if active else zero

    if "combined" in kinds:
        kinds |= {"tilt", "rotate", "translate", "zoom", "shake"}
    tilt_x = path("tilt" in kinds, 30.0)
    tilt_y = path("tilt" in kinds, 30.0)
    roll = path("rotate" in kinds, 30.0)
    shift_x = path("translate" in kinds, 0.15)
    shift_y = path("translate" in kinds, 0.10)
    zoom = np.clip(np.exp(path("zoom" in kinds, 1.0) * np.log(1.4)), 0.7, 1.4)
    shaking = "shake" in kinds
    degrees = 3.0 if shaking else (0.6 if moving else 0.2)
    shift = 0.015 if shaking else (0.003 if moving else 0.001)
    shakes = [_tremor(rng, times, degrees) for _ in range(3)]
    shakes += [_tremor(rng, times, shift) for _ in range(2)]
    x, y, z = base.position
    poses = []
    for k in range(frames):
        angles = np.array([tilt_x[k], tilt_y[k], roll[k]]) + np.asarray(base.angles_deg)
        angles += [shakes[0][k], shakes[1][k], shakes[2][k]]
        poses.append(
            Pose(
                (float(angles[0]), float(angles[1]), float(angles[2])),
                (
                    float(x + shift_x[k] + shakes[3][k]),
                    float(y + shift_y[k] + shakes[4][k]),
                    float(z / zoom[k]),
                ),
            )
        )
    return poses
