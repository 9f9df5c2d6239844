"""MediaPipe's BlazeFace detector for camera streams: 1-3 CPU ms per VGA frame.

The models are the two ``.tflite`` files of the ``mediapipe`` 0.10.21 wheel that FaceMesh
already comes from (read, never imported; ``scripts/install-face-mesh``), run by
``ai-edge-litert``:

- ``short``: ``face_detection_short_range.tflite``, 128x128 input, 896 anchors, for faces
  within about 2 m of the camera (kiosks, doors);
- ``full``: ``face_detection_full_range_sparse.tflite``, 192x192 input, 2,304 anchors, for
  faces up to about 5 m (lanes, wide halls).

The frame is letterboxed into the square input (aspect kept, zero border), each anchor's
regression is decoded into a box and six key points as MediaPipe's
``TensorsToDetectionsCalculator`` does, and overlapping boxes are merged by weighted
non-maximum suppression (the score-weighted mean of a cluster; MediaPipe's ``WEIGHTED``).

BlazeFace's box is not dlib's: it is taller and sits lower on the face. dlib's 5-point
shape predictor and its chip were trained on HOG boxes, so :func:`to_dlib_box` maps a
BlazeFace detection to the box HOG would have drawn, from its eye and mouth key points
(coefficients :data:`SHORT_TO_DLIB` and :data:`FULL_TO_DLIB`, fitted by
``bench/blazeface_fit.py`` on part of ``../shared/data``, see there).

One interpreter per thread: a TFLite interpreter keeps its tensors in the object, and two
threads invoking one interpreter at once corrupt them. :class:`BlazeFaceDetector` holds
its interpreter in thread-local storage, so an instance shared by frame workers still gives
each thread its own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import Box
from facegate.vision.images import RgbImage
from facegate.vision.liveness.face_mesh import interpreter_class, mediapipe_file

Floats = npt.NDArray[np.float32]


class BlazeRange(StrEnum):
    """Which BlazeFace model: ``short`` (kiosks, doors) or ``full`` (up to about 5 m)."""

    SHORT = "short"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class BlazeSpec:
    """One BlazeFace model and how to decode it (MediaPipe's graph options).

    Attributes:
        file: the model's path inside the ``mediapipe`` package.
        sha256: its SHA-256.
        input_px: side of the square input (pixels).
        layers: ``(stride_px, anchors_per_cell)`` per feature map, in output order.
        min_score: least detection probability kept (MediaPipe: 0.5 short, 0.6 full).
    """

    file: str
    sha256: str
    input_px: int
    layers: tuple[tuple[int, int], ...]
    min_score: float


SPECS = {
    BlazeRange.SHORT: BlazeSpec(
        "modules/face_detection/face_detection_short_range.tflite",
        "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
        128,
        ((8, 2), (16, 6)),
        0.5,
    ),
    BlazeRange.FULL: BlazeSpec(
        "modules/face_detection/face_detection_full_range_sparse.tflite",
        "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
        192,
        ((4, 1),),
        0.6,
    ),
}

NMS_IOU = 0.3
"""Boxes overlapping the cluster's best by more than this IoU merge into it (MediaPipe)."""

KEYPOINTS = ("right_eye", "left_eye", "nose_tip", "mouth", "right_ear", "left_ear")
"""BlazeFace's six key points, in output order; right and left are the person's own
(the right eye is on the image's left in an unmirrored frame)."""


@dataclass(frozen=True, slots=True)
class BlazeDetection:
    """One BlazeFace face, in the frame's pixels.

    Attributes:
        box: ``(left, top, right, bottom)`` as BlazeFace draws it (pixels, floats).
        keypoints: ``(6, 2)`` x, y of :data:`KEYPOINTS` (pixels).
        score: detection probability (0-1).
    """

    box: tuple[float, float, float, float]
    keypoints: npt.NDArray[np.float64]
    score: float


@dataclass(frozen=True, slots=True)
class DlibBoxMap:
    """From BlazeFace key points to the box dlib's HOG detector draws for the face.

    With ``e`` the midpoint of the eyes, ``m`` the mouth point and ``d = |m - e|`` (the
    eye-to-mouth distance, pixels; it shrinks less than the eye distance when the head
    turns), the HOG box is the square of side ``side * d`` centred at
    ``e + (dx * d, dy * d)``, its left edge at ``floor`` like dlib's rectangles.

    Attributes:
        side: box side over the eye-to-mouth distance.
        dx: centre's horizontal offset from the eyes' midpoint, in eye-to-mouth distances.
        dy: its vertical offset (downwards), in eye-to-mouth distances.
    """

    side: float
    dx: float
    dy: float


# Fitted by bench/blazeface_fit.py on the fit half of ../shared/data (98 faces short,
# 119 full): the mapped box's median IoU with HOG's is 0.82 / 0.81 on the held half
# (BlazeFace's own box: 0.77 / 0.83); what counts is that dlib's descriptor decides the
# same (the script's ``--identities``, docs/gate.md "Detection").
SHORT_TO_DLIB = DlibBoxMap(side=2.27, dx=-0.044, dy=0.447)
FULL_TO_DLIB = DlibBoxMap(side=2.263, dx=-0.047, dy=0.488)
TO_DLIB = {BlazeRange.SHORT: SHORT_TO_DLIB, BlazeRange.FULL: FULL_TO_DLIB}


def to_dlib_box(found: BlazeDetection, mapping: DlibBoxMap) -> Box:
    """The box dlib's HOG detector would draw for ``found`` (see :class:`DlibBoxMap`)."""
    points = found.keypoints
    eyes = (points[0] + points[1]) / 2.0
    reach = max(float(np.linalg.norm(points[3] - eyes)), 1.0)
    cx, cy = eyes[0] + mapping.dx * reach, eyes[1] + mapping.dy * reach
    half = mapping.side * reach / 2.0
    left, top = round(cx - half), round(cy - half)
    side = max(round(2 * half), 1)
    return Box(left=left, top=top, right=left + side, bottom=top + side)


@cache
def anchors(spec: BlazeSpec) -> Floats:
    """Anchor centres ``(n, 2)`` as fractions of the input side (MediaPipe's SSD anchors).

    Per feature map (stride ``s``, ``k`` anchors per cell): rows, then columns, then the
    cell's ``k`` anchors, each at the cell's centre. Every anchor has size 1 (MediaPipe's
    ``fixed_anchor_size``): the regression gives the box size directly. Read-only.
    """
    centres = []
    for stride, per_cell in spec.layers:
        cells = spec.input_px // stride
        grid = (np.arange(cells, dtype=np.float32) + 0.5) / cells
        ys, xs = np.meshgrid(grid, grid, indexing="ij")
        cell = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(cell, per_cell, axis=0))
    table = np.concatenate(centres).astype(np.float32)
    table.setflags(write=False)
    return table


def decode(regressors: Floats, logits: Floats, spec: BlazeSpec) -> tuple[Floats, Floats, Floats]:
    """The raw outputs as boxes, key points and scores, in fractions of the input side.

    Args:
        regressors: ``(n, 16)``: x, y offsets of the box centre from the anchor, box width
            and height, then six x, y key point offsets (all in input pixels).
        logits: ``(n,)`` detection logits.
        spec: the model.

    Returns:
        ``boxes`` ``(m, 4)`` left, top, right, bottom; ``keypoints`` ``(m, 6, 2)``;
        ``scores`` ``(m,)``: the anchors whose probability reaches ``spec.min_score``.
    """
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100.0, 100.0)))
    keep = np.flatnonzero(scores >= spec.min_score)
    table = anchors(spec)[keep]
    raw = regressors[keep] / spec.input_px
    centre = raw[:, 0:2] + table
    half = raw[:, 2:4] / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    points = np.asarray(raw[:, 4:16].reshape(-1, 6, 2) + table[:, None, :], np.float32)
    return boxes, points, scores[keep].astype(np.float32)


def _iou(box: Floats, others: Floats) -> Floats:
    """IoU of ``box`` ``(4,)`` with each row of ``others`` ``(n, 4)``."""
    left = np.maximum(box[0], others[:, 0])
    top = np.maximum(box[1], others[:, 1])
    right = np.minimum(box[2], others[:, 2])
    bottom = np.minimum(box[3], others[:, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9), np.float32)


def weighted_nms(
    boxes: Floats, points: Floats, scores: Floats, min_iou: float = NMS_IOU
) -> list[tuple[Floats, Floats, float]]:
    """Merge overlapping detections (MediaPipe's weighted non-maximum suppression).

    The best remaining detection and every one overlapping it by more than ``min_iou``
    form a cluster; the cluster's box and key points are their score-weighted mean, its
    score the best one's.

    Returns:
        ``(box, keypoints, score)`` per face, best score first.
    """
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    merged = []
    left = np.arange(len(scores))
    while left.size:
        overlap = _iou(boxes[left[0]], boxes[left])
        cluster, left = left[overlap > min_iou], left[overlap <= min_iou]
        weights = scores[cluster][:, None]
        total = float(weights.sum())
        box = (boxes[cluster] * weights).sum(axis=0) / total
        keypoints = (points[cluster] * weights[:, :, None]).sum(axis=0) / total
        merged.append((box, keypoints, float(scores[cluster[0]])))
    return merged


@cache
def model_file(which: BlazeRange) -> str:
    """The checked path of the model file in the installed ``mediapipe`` wheel.

    Raises:
        ModelUnavailableError: the wheel is not installed, or the file is absent or altered.
    """
    spec = SPECS[which]
    return str(mediapipe_file(spec.file, spec.sha256))


class BlazeFaceDetector:
    """BlazeFace on whole frames; safe to share between threads (one interpreter each).

    Args:
        which: the model (:class:`BlazeRange`).
        threads: TFLite threads per interpreter (default 1; see
            :mod:`facegate.vision.threads`).
        tiles: also search the two end squares of an elongated frame (see
            :func:`tile_origins`; three passes instead of one). The full-range model
            uses them in facegate: on the 1080p walking video it then finds a face in
            53 of 53 frames instead of 44 (HOG: 49).

    Raises:
        ModelUnavailableError: at construction, when the model or its runtime is missing.
    """

    def __init__(
        self, which: BlazeRange = BlazeRange.SHORT, threads: int = 1, tiles: bool = False
    ) -> None:
        self.which, self.spec = which, SPECS[which]
        self.threads, self.tiles = max(threads, 1), tiles
        self._path = model_file(which)
        self._runtime = interpreter_class()
        self._local = threading.local()
        self.interpreter()  # fail at construction, not on the first frame

    def interpreter(self) -> tuple[Any, int, dict[int, int]]:
        """This thread's interpreter, its input index and output index by row width."""
        try:
            found: tuple[Any, int, dict[int, int]] = self._local.interpreter
        except AttributeError:
            interpreter = self._runtime(model_path=self._path, num_threads=self.threads)
            interpreter.allocate_tensors()
            source = interpreter.get_input_details()[0]["index"]
            outputs = {int(o["shape"][-1]): o["index"] for o in interpreter.get_output_details()}
            if sorted(outputs) != [1, 16]:
                raise ModelUnavailableError(f"{self._path}: not a BlazeFace model") from None
            found = self._local.interpreter = (interpreter, source, outputs)
        return found

    def detect(self, image: RgbImage) -> list[BlazeDetection]:
        """The faces in the RGB ``image``, best score first (pixels of ``image``).

        With ``tiles``, a frame at least :data:`TILE_ASPECT` times wider than high (or
        higher than wide) is also searched in its two end squares (see
        :func:`tile_origins`), and the detections of all passes merged by weighted NMS.
        """
        height, width = image.shape[:2]
        origins = tile_origins(width, height) if self.tiles else []
        if not origins:
            return self._detect_one(image)
        boxes, points, scores = [], [], []
        side = min(width, height)
        for x0, y0, part in [(0, 0, image)] + [
            (x, y, image[y : y + side, x : x + side]) for x, y in origins
        ]:
            for found in self._detect_one(part):
                left, top, right, bottom = found.box
                boxes.append([left + x0, top + y0, right + x0, bottom + y0])
                points.append(found.keypoints + np.array([x0, y0], np.float64))
                scores.append(found.score)
        if not boxes:
            return []
        merged = weighted_nms(
            np.array(boxes, np.float32), np.array(points, np.float32), np.array(scores, np.float32)
        )
        return [
            BlazeDetection(
                (float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                k.astype(np.float64),
                score,
            )
            for b, k, score in merged
        ]

    def _detect_one(self, image: RgbImage) -> list[BlazeDetection]:
        """One pass of the model over ``image`` (letterboxed into its input)."""
        height, width = image.shape[:2]
        side = self.spec.input_px
        scale = side / max(width, height)
        inner_w, inner_h = max(round(width * scale), 1), max(round(height * scale), 1)
        pad_x, pad_y = (side - inner_w) // 2, (side - inner_h) // 2
        square = np.zeros((side, side, 3), np.float32)
        resized = cv2.resize(image, (inner_w, inner_h), interpolation=cv2.INTER_AREA)
        square[pad_y : pad_y + inner_h, pad_x : pad_x + inner_w] = resized / 127.5 - 1.0
        interpreter, source, outputs = self.interpreter()
        interpreter.set_tensor(source, square[None])
        interpreter.invoke()
        regressors = interpreter.get_tensor(outputs[16])[0]
        logits = interpreter.get_tensor(outputs[1])[0, :, 0]
        boxes, points, scores = decode(regressors, logits, self.spec)
        offset = np.array([pad_x, pad_y], np.float64)
        found = []
        for box, keypoints, score in weighted_nms(boxes, points, scores):
            corners = (box.reshape(2, 2) * side - offset) / scale
            pixels = (keypoints.astype(np.float64) * side - offset) / scale
            left, top, right, bottom = (float(v) for v in corners.ravel())
            found.append(BlazeDetection((left, top, right, bottom), pixels, score))
        return found


TILE_ASPECT = 1.5
"""Frames at least this much wider than high (or higher than wide) are also tiled
(16:9 and 16:10 are, 4:3 is not)."""


def tile_origins(width: int, height: int) -> list[tuple[int, int]]:
    """Top-left corners of the two end squares of an elongated frame (pixels), else none.

    A 16:9 frame letterboxed into a square input wastes 44 % of it and shows faces at
    ``input / width`` of their size; each end square shows them at ``input / height``
    (1.8 times larger at 16:9). The two squares overlap in the middle, so a face cut by
    one lies whole in the other (or in the whole-frame pass, for faces larger than the
    overlap).
    """
    if width >= TILE_ASPECT * height:
        return [(0, 0), (width - height, 0)]
    if height >= TILE_ASPECT * width:
        return [(0, 0), (0, height - width)]
    return []
