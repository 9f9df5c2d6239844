"""MediaPipe's FaceMesh and iris models: eyelid and lip points for the multi-frame cue.

dlib's 68-point model is licensed for non-commercial use only, so the eye and lip points
come from MediaPipe (Apache-2.0) as shipped in the ``mediapipe`` 0.10.21 wheel, run by
``ai-edge-litert``: ``face_landmark.tflite`` (FaceMesh, 468 points, 1.2 MB; about 1.1 ms
per face on one CPU core) and ``iris_landmark.tflite`` (71 eye-contour points per eye on
a crop of that eye; about 0.6 ms per eye, so 2.3 ms per face for both models, median
under load 4-5 on two cores). Only the files are used: the wheel is
installed without its dependencies (``scripts/install-face-mesh``) and never imported, so
its pins (NumPy 1, JAX, OpenCV contrib) never enter facegate's environment. Nothing is
downloaded at run time; each file is checked by SHA-256 like dlib's.

FaceMesh takes a 192x192 RGB crop (floats in [0, 1]) of the face, upright, with some
margin, and returns 468 ``(x, y, z)`` points in the crop's pixels and a face-presence
logit; the crop is made here from the dlib face box and its eye corners. Its own eyelid
points barely follow the lids at gate face sizes (a real blink's openness drop 0.38,
planar prints' jitter up to 0.42), so the eyelids come from the iris model, as in
MediaPipe's iris graph (``iris_landmark_left_and_right_from_face_landmarks_cpu.pbtxt``,
``iris_landmark_cpu.pbtxt``): a 64x64 crop of each eye, 2.3 times the larger side of its
two FaceMesh corners' bounding box, turned so the corners lie level, the subject's left
eye mirrored (the model knows the subject's right eye only). The wheel's
``face_landmark_with_attention.tflite`` (the "refined" FaceMesh) needs MediaPipe's own
custom operators (``Landmarks2TransformMatrix``, ``TransformTensorBilinear``,
``TransformLandmarks``), which ai-edge-litert lacks, so it cannot run here.
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

IRIS_FILE = Path("modules/iris_landmark/iris_landmark.tflite")
IRIS_SHA256 = "d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f"
EYE_INPUT_PX = 64
"""Side of the iris model's square input, pixels."""

EYE_CROP_SCALE = 2.3
"""Side of an eye's crop over the larger side of its two corners' bounding box."""

PRESENCE_LOGIT_MIN = 0.0
"""Face-presence logit under which the mesh is not trusted (0 = probability 0.5)."""

Points2 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FaceMesh:
    """The 468 FaceMesh points of one face and its two eyes' contours.

    Attributes:
        points: ``(468, 2)`` x, y in the frame's pixels.
        presence_logit: the model's face-presence logit (> 0: more likely a face).
        eyes: the iris model's ``(71, 2)`` eye-contour points (x, y in the frame's
            pixels) of the eye at FaceMesh's corners 33/133 (the image's left eye of a
            face that looks at the camera) and of the one at 362/263. In each: 0 the
            outer corner, 1-7 the lower lid from outer to inner, 8 the inner corner,
            9-15 the upper lid from outer to inner, then halos and brow (FaceMesh's
            indices of these points: MediaPipe's ``UpdateFaceLandmarksCalculator``).
    """

    points: Points2
    presence_logit: float
    eyes: tuple[Points2, Points2]


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


@cache
def iris_model_path() -> Path:
    """The checked path of ``iris_landmark.tflite`` in the installed ``mediapipe`` wheel.

    Raises:
        ModelUnavailableError: the wheel is not installed, or the file is absent or altered.
    """
    return mediapipe_file(str(IRIS_FILE), IRIS_SHA256)


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


def eye_crop_transform(
    image_left: npt.ArrayLike, image_right: npt.ArrayLike, mirrored: bool
) -> npt.NDArray[np.float64]:
    """The 2x3 affine map from the iris model's input pixels to the frame's pixels.

    Args:
        image_left: the eye's image-left corner (FaceMesh 33 or 362), frame pixels.
        image_right: its image-right corner (FaceMesh 133 or 263), frame pixels.
        mirrored: mirror the crop left to right (the subject's left eye, 362/263).
    """
    start, end = np.asarray(image_left, np.float64), np.asarray(image_right, np.float64)
    side = EYE_CROP_SCALE * float(np.max(np.abs(end - start)))
    angle = math.atan2(end[1] - start[1], end[0] - start[0])
    scale = side / EYE_INPUT_PX
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    flip = -1.0 if mirrored else 1.0
    linear = np.array([[cos * flip, -sin], [sin * flip, cos]], dtype=np.float64)
    offset = (start + end) / 2.0 - linear @ np.full(2, EYE_INPUT_PX / 2.0)
    return np.column_stack([linear, offset])


def _runner(path: Path, threads: int) -> Any:
    interpreter = interpreter_class()(model_path=str(path), num_threads=max(threads, 1))
    interpreter.allocate_tensors()
    return interpreter


def _crop(image: npt.NDArray[np.uint8], transform: npt.NDArray[np.float64], side: int) -> Any:
    crop = cv2.warpAffine(
        image,
        transform,
        (side, side),
        flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return (crop.astype(np.float32) / 255.0)[None]


def _to_frame(raw: Any, transform: npt.NDArray[np.float64]) -> Points2:
    points = np.asarray(raw, np.float64).reshape(-1, 3)[:, :2]
    return points @ transform[:, :2].T + transform[:, 2]


# FaceMesh's corners of each eye (image-left first) and whether its crop is mirrored.
_EYE_CROPS = ((33, 133, False), (362, 263, True))


class FaceMeshModel:
    """FaceMesh and the iris model on one face at a time (not thread-safe: one per thread).

    Raises:
        ModelUnavailableError: at construction, when a model or its runtime is missing.
    """

    def __init__(self, threads: int = 1) -> None:
        self._interpreter = _runner(mesh_model_path(), threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        by_size = sorted(outputs, key=lambda o: int(np.prod(o["shape"])))
        self._presence, self._points = by_size[0]["index"], by_size[-1]["index"]
        self._iris = _runner(iris_model_path(), threads)
        self._eye_input = self._iris.get_input_details()[0]["index"]
        by_name = {o["name"]: o["index"] for o in self._iris.get_output_details()}
        self._contour = by_name["output_eyes_contours_and_brows"]

    def mesh(
        self, image: npt.NDArray[np.uint8], box: Box, landmarks: FivePointLandmarks
    ) -> FaceMesh:
        """The mesh of the face at ``box`` in the RGB ``image``."""
        transform = crop_transform(box, landmarks)
        tensor = _crop(image, transform, INPUT_PX)
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        points = _to_frame(self._interpreter.get_tensor(self._points), transform)
        logit = float(np.asarray(self._interpreter.get_tensor(self._presence)).ravel()[0])
        left, right = (self._eye(image, points, *crop) for crop in _EYE_CROPS)
        return FaceMesh(points, logit, (left, right))

    def _eye(
        self, image: npt.NDArray[np.uint8], points: Points2, a: int, b: int, mirrored: bool
    ) -> Points2:
        transform = eye_crop_transform(points[a], points[b], mirrored)
        self._iris.set_tensor(self._eye_input, _crop(image, transform, EYE_INPUT_PX))
        self._iris.invoke()
        return _to_frame(self._iris.get_tensor(self._contour), transform)


# Eye-contour indices (FaceMesh.eyes): the corners; the middle three upper/lower lid
# pairs (FaceMesh's 160/144, 159/145, 158/153 on the image-left eye). FaceMesh indices of
# the mouth's corners and the inner lips.
_EYE_CORNERS, _LIDS = (0, 8), ((11, 3), (12, 4), (13, 5))
_MOUTH_CORNERS, _INNER_LIPS = (78, 308), (13, 14)


def _distance(points: Points2, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a] - points[b]))


def eye_openness(mesh: FaceMesh) -> tuple[float, float]:
    """Each eye's aspect ratio from its contour: mean lid gap over eye width.

    About 0.35 open, 0.15-0.2 shut (at gate face sizes); image-left eye first.
    """
    ratios = []
    for contour in mesh.eyes:
        width = max(_distance(contour, *_EYE_CORNERS), 1e-6)
        gap = sum(_distance(contour, up, down) for up, down in _LIDS) / len(_LIDS)
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
