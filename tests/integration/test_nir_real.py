"""The NIR cue with the real dlib detector on a grey photo standing in for a NIR frame.

No NIR camera is available here: a grey copy of a real colour photo plays the NIR frame
of a co-located camera, and a black frame plays a screen (which emits no near-infrared).
This tests the wiring and the fail-closed path, not the cue's accuracy.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from facegate.config import Settings
from facegate.domain.liveness import FaceFrame, SensorFrame
from facegate.vision.detection import FaceDetector
from facegate.vision.engine import FaceEngine
from facegate.vision.images import load_image
from facegate.vision.liveness.nir import NirCue


def test_nir_cue_on_a_real_face_and_on_a_dark_screen(shared_data: Path, engine: FaceEngine) -> None:
    image = load_image(
        shared_data / "faces" / "lfw10" / "Ariel_Sharon" / "Ariel_Sharon_0001.jpg",
        Settings().images,
    )
    face = engine.primary_face(image, describe=False)
    assert face is not None
    colour = FaceFrame(image, face.box, face.landmarks)
    detector = FaceDetector(Settings().detection)
    cue = NirCue(lambda grey: [d.box for d in detector.detect(grey)])
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    live = cue.measure([colour], [SensorFrame("nir", grey, 0.01)])
    assert live.live, live.error
    dark = cue.measure([colour], [SensorFrame("nir", np.zeros_like(grey), 0.01)])
    assert not dark.live
    assert dark.details["nir_faces"] == 0.0
