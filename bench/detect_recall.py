"""Recall and cost of the gate's detectors side by side: HOG, BlazeFace short and full range.

Each detector runs as the gate runs it (``FaceDetector`` with the gate's settings: no
fallback; HOG with facegate's working-resolution policy, which upsamples the 400x300
webcam once) on ../shared/data:

- ``labelled``: detection/dlib-faces (training + testing XML): labelled faces found (a
  detection box at IoU >= 0.5 with the label, the criterion of the engine's tests);
- ``group``: detection/group: faces found, and how many of HOG's faces each also finds
  (IoU >= 0.3);
- ``noface``: detection/noface: false faces;
- ``video:<name>``: the shared videos (every 2nd frame): frames with a face, frames where
  HOG found a face and this detector none (``missed_vs_hog``), faces per frame;
- ``second_face``: frames of the webcam video with a copy of the person's face, scaled to
  0.71 of its side (half its area: the smallest face perception's ``multiple_faces`` check
  must see), pasted beside it: frames where both faces are found;
- ``cpu_ms``: CPU ms per detection (one thread, as a gate runs) on the first 60 webcam
  frames, as they are (400x300) and scaled to 640x480 and 1280x720, with the wall ms
  beside it (``--timing-only``: this part alone).

    PYTHONPATH=src python bench/detect_recall.py [--json] [--timing-only]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facegate.domain.faces import Box
from facegate.vision.detection import DetectionSettings, DetectorModel, FaceDetector
from facegate.vision.images import load_image
from facegate.vision.imglab import labelled_images
from facegate.vision.threads import limit_threads

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DETECTORS = (DetectorModel.HOG, DetectorModel.BLAZEFACE, DetectorModel.BLAZEFACE_FULL)
VIDEOS = ("webcam_one_person.mp4", "talking_head.mp4", "several_people_walking.mp4")
SECOND_FACE_SCALE = 0.71
"""Side of the pasted second face over the first's (0.71^2 = half the area)."""


def labelled() -> list[tuple[np.ndarray, list[Box]]]:
    """The dlib-faces photos with their non-ignored labelled boxes."""
    folder = DATA / "detection" / "dlib-faces"
    return [
        (load_image(path), boxes)
        for name in ("training.xml", "testing.xml")
        for path, boxes in labelled_images(folder / name)
    ]


def frames(name: str, step: int = 2) -> list[np.ndarray]:
    """Every ``step``-th RGB frame of a shared video."""
    capture = cv2.VideoCapture(str(DATA / "video" / name))
    out, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            out.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        index += 1
    return out


def with_second_face(frame: np.ndarray, box: Box) -> np.ndarray | None:
    """``frame`` with the face at ``box`` copied at half its area beside it, or ``None``."""
    height, width = frame.shape[:2]
    margin = box.width // 4
    crop = frame[
        max(box.top - margin, 0) : min(box.bottom + margin, height),
        max(box.left - margin, 0) : min(box.right + margin, width),
    ]
    small = cv2.resize(crop, None, fx=SECOND_FACE_SCALE, fy=SECOND_FACE_SCALE)
    sh, sw = small.shape[:2]
    left = box.right + margin if box.center[0] < width / 2 else box.left - margin - sw
    top = max(min(int(box.top), height - sh), 0)
    if left < 0 or left + sw > width or sh > height:
        return None
    out = frame.copy()
    out[top : top + sh, left : left + sw] = small
    return out


def hits(found: list[Box], truth: list[Box], min_iou: float) -> int:
    """How many of ``truth`` some box of ``found`` overlaps by ``min_iou``."""
    return sum(1 for box in truth if any(box.iou(f) >= min_iou for f in found))


def run(detector: FaceDetector, image: np.ndarray) -> list[Box]:
    return [d.box for d in detector.detect(image)]


TIMED_SIZES = ((400, 300), (640, 480), (1280, 720))


def timing(detector: FaceDetector, frames: list[np.ndarray]) -> dict[str, list[float]]:
    """Per size: [CPU ms, wall ms] per detection, averaged over ``frames``."""
    detector.detect(frames[0])  # loads the model
    out = {}
    for width, height in TIMED_SIZES:
        scaled = [cv2.resize(f, (width, height)) for f in frames]
        cpu, wall = time.process_time(), time.perf_counter()
        for frame in scaled:
            detector.detect(frame)
        count = len(scaled)
        out[f"{width}x{height}"] = [
            round((time.process_time() - cpu) * 1000.0 / count, 2),
            round((time.perf_counter() - wall) * 1000.0 / count, 2),
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--timing-only", action="store_true")
    args = parser.parse_args()
    limit_threads(1)
    if args.timing_only:
        first = frames("webcam_one_person.mp4", 1)[:60]
        report = {"load_average": [round(v, 2) for v in os.getloadavg()]}
        for model in DETECTORS:
            detector = FaceDetector(DetectionSettings(model=model, fallback=None))
            report[model.value] = {"cpu_ms": timing(detector, first)}
        report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
        print(json.dumps(report, indent=None if args.json else 2))
        return
    detectors = {
        m.value: FaceDetector(DetectionSettings(model=m, fallback=None)) for m in DETECTORS
    }
    photos = labelled()
    group = [load_image(p) for p in sorted((DATA / "detection" / "group").glob("*.jpg"))]
    noface = [load_image(p) for p in sorted((DATA / "detection" / "noface").rglob("*.jpg"))]
    videos = {name: frames(name) for name in VIDEOS}
    hog = detectors["hog"]
    hog_group = [run(hog, image) for image in group]
    hog_video = {name: [run(hog, f) for f in fs] for name, fs in videos.items()}
    webcam = videos["webcam_one_person.mp4"]
    doubled = [
        with_second_face(f, boxes[0])
        for f, boxes in zip(webcam, hog_video["webcam_one_person.mp4"], strict=True)
        if len(boxes) == 1
    ]
    pasted = [f for f in doubled if f is not None]
    report: dict[str, Any] = {"load_average": [round(v, 2) for v in os.getloadavg()]}
    for name, detector in detectors.items():
        row: dict[str, Any] = {}
        row["labelled"] = {
            "faces": sum(len(t) for _, t in photos),
            "found": sum(hits(run(detector, im), t, 0.5) for im, t in photos),
        }
        found_group = [run(detector, image) for image in group]
        row["group"] = {
            "found": sum(len(f) for f in found_group),
            "hog_faces_also_found": sum(
                hits(f, h, 0.3) for f, h in zip(found_group, hog_group, strict=True)
            ),
            "hog_faces": sum(len(h) for h in hog_group),
        }
        row["noface_false_faces"] = sum(len(run(detector, im)) for im in noface)
        for video, fs in videos.items():
            found = [run(detector, f) for f in fs]
            row[f"video:{video}"] = {
                "frames": len(fs),
                "with_face": sum(1 for f in found if f),
                "missed_vs_hog": sum(
                    1 for f, h in zip(found, hog_video[video], strict=True) if h and not f
                ),
                "faces": sum(len(f) for f in found),
            }
        row["second_face"] = {
            "frames": len(pasted),
            "both_found": sum(1 for f in pasted if len(run(detector, f)) >= 2),
        }
        row["cpu_ms"] = timing(detector, webcam[:60])
        report[name] = row
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
