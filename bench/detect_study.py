"""How fast can a gate find a face? dlib's detectors at a door camera's 640x480, side by side.

Frames: the live videos of ../shared/data/video (webcam, talking head) scaled into 640x480,
and the empty table-top frames of detection/noface. Each method reports its median time per
frame and how many frames it found a face in:

- hog_rgb_640x480: facegate's gate configuration (HOG on the RGB frame, no upsampling);
- hog_grey_640x480: the same on the grey frame;
- hog_rgb_320x240: HOG at half resolution (only faces of about 160 pixels and more);
- hog_roi_prev_track: HOG on a region three times the previous frame's face box;
- blazeface_128: MediaPipe's BlazeFace short-range model, facegate's own decoding
  (`facegate.vision.blazeface`, the gates' stream detector since issue 17), only with
  `--blazeface`;
- cnn_mmod_640x480: dlib's MMOD CNN (first 5 frames only).

Needs opencv-python-headless for the videos (pip install opencv-python-headless).

    python bench/detect_study.py [--blazeface]

For recall side by side with the gate's settings, see bench/detect_recall.py.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import dlib
import numpy as np

from facegate.vision.blazeface import BlazeFaceDetector, BlazeRange
from facegate.vision.models import ModelName, model_path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
Boxes = list[np.ndarray]


def to_vga(image: np.ndarray) -> np.ndarray:
    """Scale ``image`` into a grey-padded 640x480 RGB frame."""
    height, width = image.shape[:2]
    scale = min(640 / width, 480 / height)
    scaled = cv2.resize(image, (int(width * scale), int(height * scale)))
    frame = np.full((480, 640, 3), 110, np.uint8)
    top, left = (480 - scaled.shape[0]) // 2, (640 - scaled.shape[1]) // 2
    frame[top : top + scaled.shape[0], left : left + scaled.shape[1]] = scaled
    return frame


def video_frames(path: Path, count: int, step: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            frames.append(to_vga(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
        index += 1
    return frames


def boxes_of(rects: object) -> Boxes:
    return [np.array([r.left(), r.top(), r.right(), r.bottom()], float) for r in rects]


def methods(blazeface: bool) -> dict[str, Callable[[np.ndarray, dict], Boxes]]:
    hog = dlib.get_frontal_face_detector()
    cnn = dlib.cnn_face_detection_model_v1(str(model_path(ModelName.MMOD_DETECTOR)))

    def roi(frame: np.ndarray, state: dict) -> Boxes:
        previous = state.get("box")
        found: Boxes = []
        if previous is not None:
            width = previous[2] - previous[0]
            x0, y0 = int(max(0, previous[0] - width)), int(max(0, previous[1] - width))
            x1, y1 = int(min(640, previous[2] + width)), int(min(480, previous[3] + width))
            crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
            found = [b + np.array([x0, y0, x0, y0]) for b in boxes_of(hog(crop, 0))]
        found = found or boxes_of(hog(frame, 0))
        state["box"] = found[0] if found else None
        return found

    table: dict[str, Callable[[np.ndarray, dict], Boxes]] = {
        "hog_rgb_640x480": lambda f, s: boxes_of(hog(f, 0)),
        "hog_grey_640x480": lambda f, s: boxes_of(hog(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), 0)),
        "hog_rgb_320x240": lambda f, s: [
            b * 2 for b in boxes_of(hog(cv2.resize(f, (320, 240)), 0))
        ],
        "hog_roi_prev_track": roi,
    }
    if blazeface:
        detector = BlazeFaceDetector(BlazeRange.SHORT)
        table["blazeface_128"] = lambda f, s: [np.array(d.box, float) for d in detector.detect(f)]
    table["cnn_mmod_640x480"] = lambda f, s: [
        np.array([d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom()], float)
        for d in cnn(f, 0)
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blazeface", action="store_true", help="also BlazeFace short range")
    args = parser.parse_args()
    empty = sorted((DATA / "detection" / "noface" / "table-frames").glob("*.jpg"))
    sets = {
        "webcam": video_frames(DATA / "video" / "webcam_one_person.mp4", 60, 5),
        "talking_head": video_frames(DATA / "video" / "talking_head.mp4", 40, 5),
        "empty": [to_vga(cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)) for p in empty],
    }
    print(f"{'method':20s}" + "".join(f"{name:>28s}" for name in sets))
    for name, detect in methods(args.blazeface).items():
        cells = []
        for frames in sets.values():
            frames = frames[:5] if name.startswith("cnn") else frames
            state: dict = {}
            times, hits = [], 0
            for frame in frames:
                start = time.perf_counter()
                hits += bool(detect(frame, state))
                times.append((time.perf_counter() - start) * 1000)
            cells.append(f"{statistics.median(times):8.2f} ms {hits:3d}/{len(frames):3d} found")
        print(f"{name:20s}" + "".join(f"{c:>28s}" for c in cells))


if __name__ == "__main__":
    main()
