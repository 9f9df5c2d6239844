"""A phone or tablet screen replaying a video, as a :class:`Surface` for the attack suite.

The screen is modelled, not photographed: the video frame is resampled to the screen's
own pixels (letterboxed), given the screen's tone curve and colour cast and a raised
black level, drawn as red, green and blue sub-pixel stripes (so that the camera's
sampling of that grid aliases into moire), given a fixed glare spot, and framed by a
dark bezel. :func:`render_screen` then puts it in
the room in front of the camera.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facegate.vision.images import RgbImage
from facegate.vision.liveness.synthetic import Camera, Pose, Surface, surface_pixels

SUBPIXELS = 3
"""Sub-pixel stripes per screen pixel along a row (red, green, blue)."""

DEVICES = {"phone": (9.0 / 16.0, 0.06), "tablet": (4.0 / 3.0, 0.08)}
"""Screen aspect (width over height) and bezel width (share of the screen's width)."""


@dataclass(frozen=True, slots=True)
class ScreenLook:
    """How one screen shows things (drawn once per replay).

    Attributes:
        device: ``phone`` (portrait) or ``tablet`` (landscape), see :data:`DEVICES`.
        camera_px_per_screen_px: camera pixels one screen pixel covers at the nominal
            distance (about 1 makes the strongest moire).
        gamma: exponent applied to the content in [0, 1] (the screen's tone curve
            against the camera's).
        gains: red, green and blue gains (the screen's colour cast, usually blue).
        black_level: grey level a black pixel still emits (backlight leak), 0-255.
        glare_xy: the glare spot's centre as shares of the screen's width and height.
        glare_sigma: its size as a share of the screen's width.
        glare_level: its peak brightness added, grey levels.
        bezel_grey: the bezel's grey level.
    """

    device: str
    camera_px_per_screen_px: float
    gamma: float
    gains: tuple[float, float, float]
    black_level: float
    glare_xy: tuple[float, float]
    glare_sigma: float
    glare_level: float
    bezel_grey: int

    @classmethod
    def draw(cls, device: str, rng: np.random.Generator) -> ScreenLook:
        """A random look for ``device`` within the ranges of real screens.

        Raises:
            ValueError: an unknown device.
        """
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
        return cls(
            device=device,
            camera_px_per_screen_px=float(rng.uniform(0.5, 1.5)),
            gamma=float(rng.uniform(0.75, 1.3)),
            gains=(
                float(rng.uniform(0.86, 1.0)),
                float(rng.uniform(0.95, 1.03)),
                float(rng.uniform(1.0, 1.15)),
            ),
            black_level=float(rng.uniform(8.0, 30.0)),
            glare_xy=(float(rng.uniform(0.1, 0.9)), float(rng.uniform(0.1, 0.9))),
            glare_sigma=float(rng.uniform(0.08, 0.2)),
            glare_level=float(rng.uniform(30.0, 110.0)),
            bezel_grey=int(rng.integers(12, 45)),
        )


@dataclass(frozen=True, slots=True)
class ScreenLayout:
    """Where the content lies on a screen, in screen pixels.

    Attributes:
        native: screen pixels per content pixel.
        screen: the screen's ``(width, height)`` in screen pixels.
        offset: screen ``(x, y)`` of the content's top-left corner (letterboxed).
        rim: the bezel's width in screen pixels.
    """

    native: float
    screen: tuple[int, int]
    offset: tuple[int, int]
    rim: int

    def place(self, points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Content pixels ``(n, 2)`` to texture pixels (screen pixels, bezel included)."""
        corner = np.asarray(self.offset, dtype=np.float64) + self.rim
        return np.asarray(points * self.native + corner, dtype=np.float64)


def layout(
    content_size: tuple[int, int], face_width_px: float, target_px: float, look: ScreenLook
) -> ScreenLayout:
    """The screen layout for content of ``content_size`` ``(width, height)``, pixels.

    The screen's resolution is chosen so that the face, ``face_width_px`` wide in the
    content, spans ``target_px`` camera pixels at the nominal distance with one screen
    pixel covering ``look.camera_px_per_screen_px`` camera pixels; the content is fitted
    inside the screen's aspect (black bars).
    """
    aspect, bezel = DEVICES[look.device]
    width, height = content_size
    native = target_px / look.camera_px_per_screen_px / max(face_width_px, 1.0)
    if width / height >= aspect:
        screen_w = max(round(width * native), 8)
        screen_h = max(round(screen_w / aspect), 8)
    else:
        screen_h = max(round(height * native), 8)
        screen_w = max(round(screen_h * aspect), 8)
    offset = ((screen_w - round(width * native)) // 2, (screen_h - round(height * native)) // 2)
    return ScreenLayout(native, (screen_w, screen_h), offset, max(round(bezel * screen_w), 1))


def screen_surface(
    content: RgbImage, look: ScreenLook, screen: ScreenLayout, metres_per_px: float
) -> Surface:
    """The screen showing ``content`` (one video frame), one texture pixel per screen pixel.

    The content is resampled to the screen's pixels (letterboxed), given the tone curve,
    colour cast, backlight leak and glare spot, and framed by the bezel. The sub-pixel
    stripes are drawn by :func:`render_screen`, at the camera's sampling.

    Args:
        content: the video frame (RGB).
        look: the screen's look.
        screen: the layout from :func:`layout` for this content's size.
        metres_per_px: size of one screen pixel, in units of the nominal distance.
    """
    screen_w, screen_h = screen.screen
    height, width = content.shape[:2]
    size = (max(round(width * screen.native), 1), max(round(height * screen.native), 1))
    resized = cv2.resize(content, size, interpolation=cv2.INTER_AREA).astype(np.float64)
    pixels = np.zeros((screen_h, screen_w, 3), dtype=np.float64)
    x0, y0 = screen.offset
    pixels[y0 : y0 + size[1], x0 : x0 + size[0]] = resized[: screen_h - y0, : screen_w - x0]
    shown = np.clip((pixels / 255.0) ** look.gamma * np.asarray(look.gains), 0.0, 1.0)
    shown = look.black_level + (255.0 - look.black_level) * shown
    yy, xx = np.mgrid[0:screen_h, 0:screen_w].astype(np.float64)
    gx, gy = look.glare_xy[0] * screen_w, look.glare_xy[1] * screen_h
    sigma = look.glare_sigma * screen_w
    shown += (
        look.glare_level * np.exp(-((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * sigma**2))[..., None]
    )
    rim = screen.rim
    texture = np.full((screen_h + 2 * rim, screen_w + 2 * rim, 3), float(look.bezel_grey))
    texture[rim : rim + screen_h, rim : rim + screen_w] = shown
    return Surface(np.clip(np.rint(texture), 0, 255).astype(np.uint8), metres_per_px)


SUPERSAMPLE = 2
"""Samples per camera pixel along each axis (a sensor pixel averages over its area)."""


def render_screen(
    frame: RgbImage, surface: Surface, screen: ScreenLayout, pose: Pose, camera: Camera
) -> None:
    """Draw the flat screen ``surface`` at ``pose`` into ``frame`` (in place).

    Each camera pixel averages :data:`SUPERSAMPLE` squared samples; each sample sees
    the screen pixel under it and, on the glass, only the red, green or blue third of
    it (the sub-pixel stripe under the sample): the camera's sampling of the stripe
    grid aliases into the colour moire a real screen shows.
    """
    height, width = surface.texture.shape[:2]
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    moved = surface_pixels(surface, pose, camera, corners) * SUPERSAMPLE
    inverse = cv2.getPerspectiveTransform(moved.astype(np.float32), corners.astype(np.float32))
    fine = (camera.width * SUPERSAMPLE, camera.height * SUPERSAMPLE)
    yy, xx = np.mgrid[0 : fine[1], 0 : fine[0]].astype(np.float32) + 0.5
    grid = np.stack([xx, yy], axis=-1).reshape(-1, 1, 2)
    uv = cv2.perspectiveTransform(grid, inverse).reshape(fine[1], fine[0], 2)
    u, v = uv[..., 0], uv[..., 1]
    sampled = cv2.remap(surface.texture, u - 0.5, v - 0.5, cv2.INTER_NEAREST).astype(np.float64)
    rim = screen.rim
    glass = (u >= rim) & (u < width - rim) & (v >= rim) & (v < height - rim)
    lit = np.floor((u - np.floor(u)) * SUBPIXELS).astype(int)
    for channel in range(3):
        gain = np.where(lit == channel, 3.0 * 0.8, 3.0 * 0.1)
        sampled[..., channel] *= np.where(glass, gain, 1.0)
    cover = ((u >= 0) & (u < width) & (v >= 0) & (v < height)).astype(np.float64)
    big = cv2.resize(frame, fine, interpolation=cv2.INTER_NEAREST).astype(np.float64)
    blend = big * (1.0 - cover[..., None]) + np.clip(sampled, 0, 255) * cover[..., None]
    small = cv2.resize(blend, camera.size, interpolation=cv2.INTER_AREA)
    frame[:] = np.clip(np.rint(small), 0, 255).astype(np.uint8)
