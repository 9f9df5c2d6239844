"""An RGB camera and a near-infrared (NIR) camera opened together as one frame source.

Each colour frame is paired with the NIR frame nearest to it in time: the NIR stream is
read ahead while its next frame is no later than the colour frame, and the nearer of the
last two is attached to the colour frame as a :class:`facegate.domain.liveness.SensorFrame`
of kind ``"nir"``, with its time difference (``skew_s``). Both sources' ``timestamp_s``
must count on one clock (two devices started together, or a dual-sensor module's
hardware timestamps); the pairing never invents a frame: when the NIR camera ended,
failed or lags more than ``max_skew_s``, the colour frame goes on *without* a NIR frame
(or with the stale one and its skew), and the NIR cue refuses it (fail closed). The
colour camera's failures are the source's failures, as for a single camera.

The NIR frame is made grey and resized to the colour frame's size, so its pixels lie on
the colour frame's grid: that assumes the two cameras are co-located and aligned (a
dual-sensor module). ``registration`` (a 3x3 homography from NIR to colour pixels,
measured once at installation) maps a pair that is not.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.errors import CameraFailedError
from facegate.domain.liveness import SensorFrame
from facegate.ports import Frame, FrameSource

NIR_KIND = "nir"
"""The :class:`SensorFrame` kind of a near-infrared frame."""


def nir_pixels(
    image: npt.NDArray[np.uint8],
    size: tuple[int, int],
    registration: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float32]:
    """A NIR camera frame as grey intensities (0-255) on the colour frame's grid.

    Args:
        image: the NIR frame, ``(h, w, 3)`` (grey in three channels) or ``(h, w)``.
        size: the colour frame's ``(width, height)``.
        registration: homography from NIR pixels to colour pixels; ``None``: resize.
    """
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if registration is None:
        mapped = cv2.resize(grey, size, interpolation=cv2.INTER_LINEAR)
    else:
        mapped = cv2.warpPerspective(grey, registration, size, flags=cv2.INTER_LINEAR)
    return np.asarray(mapped, dtype=np.float32)


class PairedSource:
    """A :class:`facegate.ports.FrameSource` of colour frames carrying paired NIR frames.

    Args:
        rgb: the colour camera (its frames, indices and times are the source's).
        nir: the NIR camera, on the same clock.
        max_skew_s: a NIR frame further than this from its colour frame is not attached
            (seconds, default 0.04: one frame at 25 frames/s).
        registration: optional NIR-to-colour homography (see the module docstring).
    """

    def __init__(
        self,
        rgb: FrameSource,
        nir: FrameSource,
        max_skew_s: float = 0.04,
        registration: npt.NDArray[np.float64] | None = None,
    ) -> None:
        if max_skew_s <= 0.0:
            raise ValueError("max_skew_s must be positive")
        self._rgb, self._nir = rgb, nir
        self.max_skew_s = max_skew_s
        self._registration = registration
        self._previous: Frame | None = None
        self._ahead: Frame | None = None
        self._nir_done = False
        self.nir_failures = 0

    @property
    def description(self) -> str:
        """Both cameras."""
        return f"{self._rgb.description} + NIR {self._nir.description}"

    def read(self) -> Frame | None:
        """The next colour frame with its nearest NIR frame (if near enough).

        Raises:
            CameraFailedError: the colour camera failed (the NIR camera's failures only
                leave frames without a NIR frame).
        """
        colour = self._rgb.read()
        if colour is None:
            return None
        nearest = self._nearest(colour.timestamp_s)
        if nearest is None:
            return colour
        skew = nearest.timestamp_s - colour.timestamp_s
        if abs(skew) > self.max_skew_s:
            return colour
        height, width = colour.image.shape[:2]
        pixels = nir_pixels(nearest.image, (width, height), self._registration)
        sensor = SensorFrame(NIR_KIND, pixels, skew)
        return Frame(colour.image, colour.index, colour.timestamp_s, (*colour.sensor, sensor))

    def _read_nir(self) -> Frame | None:
        if self._nir_done:
            return None
        try:
            frame = self._nir.read()
        except CameraFailedError:
            self.nir_failures += 1
            return None
        if frame is None:
            self._nir_done = True
        return frame

    def _nearest(self, time_s: float) -> Frame | None:
        """The NIR frame nearest to ``time_s`` among those read (reading ahead to it)."""
        if self._ahead is None:
            self._ahead = self._read_nir()
        while self._ahead is not None and self._ahead.timestamp_s <= time_s:
            self._previous, self._ahead = self._ahead, self._read_nir()
        candidates = [f for f in (self._previous, self._ahead) if f is not None]
        if not candidates:
            return None
        return min(candidates, key=lambda f: abs(f.timestamp_s - time_s))

    def close(self) -> None:
        """Release both cameras."""
        try:
            self._rgb.close()
        finally:
            self._nir.close()
