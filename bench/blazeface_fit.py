"""Fit BlazeFace's key points to dlib's HOG boxes; check identities on held-apart photos.

dlib's 5-point landmark model and its chip were trained on HOG boxes, so a gate that finds
faces with BlazeFace hands dlib the box HOG would have drawn
(:class:`facegate.vision.blazeface.DlibBoxMap`: a square from the eyes' midpoint and the
eye-to-mouth distance). This script:

1. fit: pairs each BlazeFace face (short and full range) with the HOG box it overlaps on
   the FIT half (../shared/data/detection: dlib-faces ``training.xml`` photos and the
   group photos bbt1, bbt3, bbt5; and the first half of the webcam and talking-head
   videos, every 10th / 5th frame: the detection photos alone hold only 11 faces that
   the short-range model finds) and takes the median side and centre offset; prints the
   coefficients to paste into ``blazeface.py`` and the IoU of the mapped box with HOG's
   on the fit half and on the HELD half (``testing.xml``, bbt2, bbt4, multiface, the
   videos' second halves);
2. identities (``--identities``, held apart: no face set is used for the fit): every photo
   of faces/{att,yale,lfw10,tvcast,johns} described twice with dlib's descriptor, once
   from the HOG box (the enrolment path) and once from the mapped BlazeFace box (the gate
   path); prints per set the photos each path found, the distance between the two
   descriptors of a photo, how many same/different decisions at the match threshold
   (0.57) flip over all pairs of the set, and how many rank-1 identities (nearest other
   photo) change.

    PYTHONPATH=src python bench/blazeface_fit.py [--identities] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import xml.etree.ElementTree as ET
from dataclasses import replace
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facegate.config import Settings
from facegate.domain.faces import Box
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD
from facegate.services.acquisition import find_identities
from facegate.vision.blazeface import (
    BlazeFaceDetector,
    BlazeRange,
    DlibBoxMap,
    to_dlib_box,
)
from facegate.vision.detection import DetectionSettings, DetectorModel, FaceDetector
from facegate.vision.engine import EngineSpec, FaceEngine
from facegate.vision.images import load_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FIT_GROUP = ("bbt1.jpg", "bbt3.jpg", "bbt5.jpg")
HELD_GROUP = ("bbt2.jpg", "bbt4.jpg", "multiface.jpg")
FACE_SETS = ("att", "yale", "lfw10", "tvcast", "johns")


def xml_photos(name: str) -> list[Path]:
    """The photos listed in a dlib imglab XML file of detection/dlib-faces."""
    folder = DATA / "detection" / "dlib-faces"
    root = ET.parse(folder / name).getroot()
    return [folder / str(image.get("file")) for image in root.iter("image")]


VIDEO_STEPS = (("webcam_one_person.mp4", 10), ("talking_head.mp4", 5))
"""The videos used and every how many frames one is taken."""


def video_half(name: str, step: int, first: bool) -> list[np.ndarray]:
    """Every ``step``-th RGB frame of the first (or second) half of a shared video."""
    capture = cv2.VideoCapture(str(DATA / "video" / name))
    count, frames, index = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0 and (index < count / 2) == first:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        index += 1
    return frames


def halves() -> dict[str, list[np.ndarray]]:
    """The fit and held halves (fixed by file and frame number, not by result)."""
    group = DATA / "detection" / "group"
    fit_photos = xml_photos("training.xml") + [group / name for name in FIT_GROUP]
    held_photos = xml_photos("testing.xml") + [group / name for name in HELD_GROUP]
    return {
        "fit": [load_image(p) for p in fit_photos]
        + [f for name, step in VIDEO_STEPS for f in video_half(name, step, True)],
        "held": [load_image(p) for p in held_photos]
        + [f for name, step in VIDEO_STEPS for f in video_half(name, step, False)],
    }


def raw_box(box: tuple[float, float, float, float]) -> Box:
    return Box(*(round(v) for v in box))


def pairs(images: list[np.ndarray], which: BlazeRange) -> list[tuple[Any, Box]]:
    """(BlazeFace detection, HOG box) for every face both find (raw boxes' IoU >= 0.3)."""
    hog = FaceDetector(DetectionSettings(fallback=None))
    blaze = BlazeFaceDetector(which)
    found = []
    for image in images:
        hog_boxes = [d.box for d in hog.detect(image)]
        for face in blaze.detect(image):
            box = raw_box(face.box)
            best = max(hog_boxes, key=box.iou, default=None)
            if best is not None and box.iou(best) >= 0.3:
                found.append((face, best))
    return found


def fit(matched: list[tuple[Any, Box]]) -> DlibBoxMap:
    """Median side and centre offset of the HOG box, in eye-to-mouth distances."""
    sides, dxs, dys = [], [], []
    for face, box in matched:
        points = face.keypoints
        eyes = (points[0] + points[1]) / 2.0
        reach = max(float(np.linalg.norm(points[3] - eyes)), 1.0)
        cx, cy = box.center
        sides.append((box.width + box.height) / 2.0 / reach)
        dxs.append((cx - eyes[0]) / reach)
        dys.append((cy - eyes[1]) / reach)
    return DlibBoxMap(
        round(float(statistics.median(sides)), 3),
        round(float(statistics.median(dxs)), 3),
        round(float(statistics.median(dys)), 3),
    )


def agreement(matched: list[tuple[Any, Box]], mapping: DlibBoxMap) -> dict[str, Any]:
    """IoU of the mapped box with HOG's: median, 5th percentile, and of the raw box."""
    mapped = [to_dlib_box(face, mapping).iou(box) for face, box in matched]
    raw = [raw_box(face.box).iou(box) for face, box in matched]
    return {
        "faces": len(matched),
        "iou_mapped_median": round(statistics.median(mapped), 3) if mapped else None,
        "iou_mapped_p5": round(float(np.percentile(mapped, 5)), 3) if mapped else None,
        "iou_raw_median": round(statistics.median(raw), 3) if raw else None,
    }


def describe_all(engine: FaceEngine, paths: list[Path]) -> dict[Path, np.ndarray]:
    """Descriptor of each photo's primary face (photos without one are left out)."""
    out = {}
    for path in paths:
        face = engine.primary_face(load_image(path))
        if face is not None and face.descriptor is not None:
            out[path] = np.asarray(face.descriptor, np.float64)
    return out


def identities(detector: DetectorModel) -> dict[str, Any]:
    """Descriptor decisions with HOG boxes vs mapped BlazeFace boxes, per face set."""
    settings = Settings()
    spec = EngineSpec(
        embedding=settings.embedding, quality=settings.quality, cache_dir=settings.cache_dir
    )
    hog = FaceEngine(replace(spec, detection=DetectionSettings(fallback=None)))
    blaze = FaceEngine(replace(spec, detection=DetectionSettings(model=detector, fallback=None)))
    report: dict[str, Any] = {}
    for name in FACE_SETS:
        people = find_identities(DATA / "faces" / name)
        owner = {p: person for person, paths in people.items() for p in paths}
        paths = sorted(owner)
        a, b = describe_all(hog, paths), describe_all(blaze, paths)
        both = [p for p in paths if p in a and p in b]
        shift = [float(np.linalg.norm(a[p] - b[p])) for p in both]
        flips = total = 0
        for p, q in combinations(both, 2):
            total += 1
            same_a = np.linalg.norm(a[p] - a[q]) <= DEFAULT_MATCH_THRESHOLD
            same_b = np.linalg.norm(b[p] - b[q]) <= DEFAULT_MATCH_THRESHOLD
            flips += int(same_a != same_b)
        rank_changes = correct_a = correct_b = 0
        for p in both:
            others = [q for q in both if q != p]
            near_a = min(others, key=lambda q: float(np.linalg.norm(a[p] - a[q])))
            near_b = min(others, key=lambda q: float(np.linalg.norm(b[p] - b[q])))
            rank_changes += int(owner[near_a] != owner[near_b])
            correct_a += int(owner[near_a] == owner[p])
            correct_b += int(owner[near_b] == owner[p])
        report[name] = {
            "photos": len(paths),
            "found_hog": len(a),
            "found_blaze": len(b),
            "descriptor_shift_median": round(statistics.median(shift), 4) if shift else None,
            "descriptor_shift_max": round(max(shift), 4) if shift else None,
            "pairs": total,
            "pair_decisions_flipped": flips,
            "rank1_changed": rank_changes,
            "rank1_correct_hog": correct_a,
            "rank1_correct_blaze": correct_b,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--identities", action="store_true", help="also the identity check")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    split = halves()
    out: dict[str, Any] = {}
    for which, model in (
        (BlazeRange.SHORT, DetectorModel.BLAZEFACE),
        (BlazeRange.FULL, DetectorModel.BLAZEFACE_FULL),
    ):
        matched = pairs(split["fit"], which)
        fitted = fit(matched)
        out[which.value] = {
            "mapping": {"side": fitted.side, "dx": fitted.dx, "dy": fitted.dy},
            "fit": agreement(matched, fitted),
            "held": agreement(pairs(split["held"], which), fitted),
        }
        if args.identities:
            out[which.value]["identities"] = identities(model)
    print(json.dumps(out, indent=None if args.json else 2))


if __name__ == "__main__":
    main()
