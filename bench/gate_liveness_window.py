"""BPCER of the gate's motion liveness cue by window length, on live video.

Every window of ``N`` consecutive frames (non-overlapping, the primary face measured in
each) is one live arrival; BPCER is the share the cue refuses. Calibrate on
``talking_head.mp4``, then report on ``webcam_one_person.mp4`` with the chosen ``N``::

    .venv/bin/python bench/gate_liveness_window.py --video ../shared/data/video/talking_head.mp4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facegate.bootstrap_gate import build_gate_engine
from facegate.config import Settings
from facegate.domain.liveness import FaceFrame
from facegate.gate.bench import read_frames
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.motion import MotionSettings


def face_frames(video: Path, settings: Settings) -> list[FaceFrame | None]:
    """The primary face of every frame (``None`` where there is none)."""
    engine = build_gate_engine(settings)
    result: list[FaceFrame | None] = []
    for frame in read_frames(video):
        face = engine.primary_face(frame.image, describe=False)
        result.append(None if face is None else FaceFrame(frame.image, face.box, face.landmarks))
    return result


def bpcer(faces: list[FaceFrame | None], window: int) -> dict[str, float]:
    """Refusal rate of the motion cue over non-overlapping windows of ``window`` frames."""
    check = FusedLivenessCheck(motion=MotionSettings(min_frames=window))
    arrivals = refused = 0
    for start in range(0, len(faces) - window + 1, window):
        chunk = faces[start : start + window]
        if any(f is None for f in chunk):
            continue
        arrivals += 1
        refused += not check.check([f for f in chunk if f is not None]).live
    return {
        "window": window,
        "arrivals": arrivals,
        "refused": refused,
        "bpcer": round(refused / arrivals, 3) if arrivals else float("nan"),
    }


def main() -> None:
    """Print one JSON line per window length."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--video", type=Path, required=True)
    parser.add_argument("--windows", type=int, nargs="+", default=[6, 12, 25])
    args = parser.parse_args()
    faces = face_frames(args.video, Settings())
    for window in args.windows:
        print(json.dumps({"video": args.video.name, **bpcer(faces, window)}))


if __name__ == "__main__":
    main()
