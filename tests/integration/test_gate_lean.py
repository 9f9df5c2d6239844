"""A stream gate loads only the models it uses (issue 17: the lean gate process).

Checked in a fresh Python process, as a gate starts: what a test session imported before
would hide what the gate itself loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facegate.vision.onnx_cache import ensure_converted
from facegate.vision.onnx_embedding import onnx_backend_available

# Builds the gate's engine and liveness check as `facegate gate run` does, runs a real
# frame through detection, landmarks, quality and the descriptor, and reports which of
# dlib's loaders were called and which heavy modules got imported.
CHILD = """
import json, sys
import cv2, dlib
called = []
for name in ("get_frontal_face_detector", "cnn_face_detection_model_v1",
             "face_recognition_model_v1"):
    real = getattr(dlib, name)
    def spy(*args, _name=name, _real=real):
        called.append(_name)
        return _real(*args)
    setattr(dlib, name, spy)
from facegate.bootstrap_gate import build_gate_engine, build_gate_liveness
from facegate.config import Settings
settings = Settings()
engine = build_gate_engine(settings)
build_gate_liveness(settings)
capture = cv2.VideoCapture(sys.argv[1])
capture.set(cv2.CAP_PROP_POS_FRAMES, 200)
ok, bgr = capture.read()
faces = engine.analyze(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
print(json.dumps({
    "called": called,
    "faces": len(faces),
    "described": sum(f.descriptor is not None for f in faces),
    "detector": faces[0].detection.detector.value if faces else None,
    "backend": engine.embedder.backend,
    "modules": sorted(m for m in ("onnx", "sklearn", "scipy", "torch") if m in sys.modules),
}))
"""


def test_a_blazeface_stream_gate_loads_no_dlib_detector_nor_dlib_network(
    shared_data: Path, session_cache_dir: Path
) -> None:
    if not onnx_backend_available():
        pytest.skip("ONNX Runtime is not installed")
    ensure_converted(session_cache_dir)  # the child finds the model converted, as a gate does
    video = shared_data / "video" / "webcam_one_person.mp4"
    env = dict(os.environ, FACEGATE_CACHE_DIR=str(session_cache_dir))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(video)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["detector"] == "blazeface"  # the default stream detector found the face
    assert report["faces"] >= 1
    assert report["described"] == report["faces"]
    assert report["backend"] == "onnx"
    assert report["called"] == []  # no HOG, no CNN, no dlib ResNet loaded
    assert report["modules"] == []  # no onnx (converter only), scikit-learn, SciPy, torch
