"""BlazeFace on real photos and frames of ../shared/data, against dlib's HOG path."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from facegate.domain.faces import Box
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD
from facegate.vision.blazeface import BlazeFaceDetector, BlazeRange
from facegate.vision.detection import DetectionSettings, DetectorModel, FaceDetector
from facegate.vision.engine import FaceEngine, descriptor_of
from facegate.vision.images import load_image

pytest.importorskip("ai_edge_litert")


def _detector(which: BlazeRange) -> BlazeFaceDetector:
    try:
        return BlazeFaceDetector(which)
    except Exception as err:  # the mediapipe wheel is an optional install
        pytest.skip(f"BlazeFace unavailable: {err}")


def _lfw_firsts(shared_data: Path) -> list[Path]:
    return sorted(p for p in (shared_data / "faces" / "lfw10").glob("*/*_0001.jpg"))


@pytest.mark.parametrize("which", list(BlazeRange))
def test_decoding_finds_the_face_hog_finds(shared_data: Path, which: BlazeRange) -> None:
    detector = _detector(which)
    hog = FaceDetector(DetectionSettings(fallback=None))
    model = DetectorModel.BLAZEFACE if which is BlazeRange.SHORT else DetectorModel.BLAZEFACE_FULL
    mapped = FaceDetector(DetectionSettings(model=model, fallback=None))
    for path in _lfw_firsts(shared_data)[:4]:
        image = load_image(path)
        found = detector.detect(image)
        assert found, path.name
        left, top, right, bottom = found[0].box
        for x, y in found[0].keypoints[:4]:  # eyes, nose, mouth inside the face's box
            assert left <= x <= right
            assert top <= y <= bottom
        assert found[0].keypoints[0][0] < found[0].keypoints[1][0]  # right eye on the left
        hog_box = hog.detect(image)[0].box
        assert mapped.detect(image)[0].box.iou(hog_box) >= 0.5, path.name


def test_the_mapped_box_gives_a_chip_the_descriptor_matches(
    shared_data: Path, engine: FaceEngine
) -> None:
    _detector(BlazeRange.SHORT)
    blaze = FaceEngine(
        replace(
            engine.spec,
            detection=DetectionSettings(model=DetectorModel.BLAZEFACE, fallback=None),
        )
    )
    paths = _lfw_firsts(shared_data)
    hog_rows, blaze_rows = [], []
    for path in paths:
        image = load_image(path)
        by_hog, by_blaze = engine.primary_face(image), blaze.primary_face(image)
        assert by_hog is not None, path.name
        assert by_blaze is not None, path.name
        hog_rows.append(descriptor_of(by_hog))
        blaze_rows.append(descriptor_of(by_blaze))
    distances = np.linalg.norm(np.array(blaze_rows)[:, None] - np.array(hog_rows)[None], axis=2)
    # Same photo: far closer than the match threshold; each one's nearest is itself.
    assert np.all(np.diag(distances) < DEFAULT_MATCH_THRESHOLD / 2), np.diag(distances)
    assert list(distances.argmin(axis=1)) == list(range(len(paths)))


def test_each_thread_runs_its_own_interpreter(shared_data: Path) -> None:
    detector = _detector(BlazeRange.SHORT)
    image = load_image(_lfw_firsts(shared_data)[0])
    alone = detector.detect(image)[0]
    seen: dict[int, object] = {}
    results: list[list[tuple[float, ...]]] = [[], []]

    def work(slot: int) -> None:
        seen[slot] = detector.interpreter()[0]
        for _ in range(30):
            results[slot].append(detector.detect(image)[0].box)

    threads = [threading.Thread(target=work, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen[0] is not seen[1]
    assert seen[0] is not detector.interpreter()[0]
    assert detector.interpreter()[0] is detector.interpreter()[0]
    for boxes in results:
        assert boxes == [alone.box] * 30


def _paste_smaller_copy(frame: np.ndarray, box: Box, scale: float) -> np.ndarray:
    """``frame`` with the face at ``box`` copied, ``scale`` times its side, beside it."""
    margin = box.width // 4
    crop = frame[box.top - margin : box.bottom + margin, box.left - margin : box.right + margin]
    small = cv2.resize(crop, None, fx=scale, fy=scale)
    sh, sw = small.shape[:2]
    left = box.right + margin if box.center[0] < frame.shape[1] / 2 else box.left - margin - sw
    out = frame.copy()
    out[box.top : box.top + sh, left : left + sw] = small
    return out


def test_a_second_smaller_face_is_still_seen(shared_data: Path) -> None:
    # Perception refuses multiple_faces for a second face of half the primary's area or
    # more: the stream detector must see a face of that size beside the primary one.
    _detector(BlazeRange.SHORT)
    capture = cv2.VideoCapture(str(shared_data / "video" / "webcam_one_person.mp4"))
    capture.set(cv2.CAP_PROP_POS_FRAMES, 100)
    ok, bgr = capture.read()
    assert ok
    frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    detector = FaceDetector(DetectionSettings(model=DetectorModel.BLAZEFACE, fallback=None))
    first = detector.detect(frame)
    assert len(first) == 1
    doubled = _paste_smaller_copy(frame, first[0].box, 0.8)
    boxes = sorted((d.box for d in detector.detect(doubled)), key=lambda b: -b.area)
    assert len(boxes) == 2
    assert boxes[1].area * 2 >= boxes[0].area


def test_tiles_find_the_far_faces_of_a_wide_frame(shared_data: Path) -> None:
    # Frames 1-5 of the 1080p walking video: the whole-frame pass (faces shown at a
    # tenth of their size) finds nobody; the end squares show them 1.8 times larger.
    plain = _detector(BlazeRange.FULL)
    tiled = BlazeFaceDetector(BlazeRange.FULL, tiles=True)
    capture = cv2.VideoCapture(str(shared_data / "video" / "several_people_walking.mp4"))
    found_plain = found_tiled = 0
    for _ in range(6):
        ok, bgr = capture.read()
        assert ok
        frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        found_plain += len(plain.detect(frame))
        found_tiled += len(tiled.detect(frame))
    assert found_tiled > found_plain
    assert found_tiled >= 5
