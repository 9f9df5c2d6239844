"""dlib's own reference pipeline on a pair protocol, for comparison with `facegate eval pairs`.

The reference is what face_recognition and dlib's examples do: the HOG detector with one
upsampling step, the first face it returns, 5-point landmarks, the descriptor of dlib's
150x150 chip without jitter, and "same" when the distance is <= 0.6. A pair whose image
yields no face is a failure to acquire, counted as an error, exactly as facegate counts it.

    python bench/reference_dlib.py --pairs /tmp/lfw10-pairs.csv --root ../shared/data/faces/lfw10
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

from facegate.domain import metrics
from facegate.services.pairs import read_pairs
from facegate.vision.models import ModelName, model_path

THRESHOLD = 0.6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(model_path(ModelName.LANDMARKS_5)))
    network = dlib.face_recognition_model_v1(str(model_path(ModelName.DESCRIPTOR)))
    cache: dict[Path, np.ndarray | None] = {}

    def describe(path: Path) -> np.ndarray | None:
        if path not in cache:
            image = np.asarray(Image.open(path).convert("RGB"))
            faces = detector(image, 1)
            cache[path] = (
                np.asarray(network.compute_face_descriptor(image, predictor(image, faces[0])))
                if len(faces)
                else None
            )
        return cache[path]

    genuine, impostor, failed = [], [], 0
    pairs = read_pairs(args.pairs, args.root)
    for pair in pairs:
        a, b = describe(pair.first), describe(pair.second)
        if a is None or b is None:
            failed += 1
            continue
        (genuine if pair.same else impostor).append(float(np.linalg.norm(a - b)))
    report = {
        "pipeline": "dlib reference: HOG upsample 1, first face, 5-point chip, no jitter",
        "pairs": len(pairs),
        "accuracy": round(metrics.accuracy_at(genuine, impostor, THRESHOLD, failed), 6),
        "threshold": THRESHOLD,
        "fmr": round(metrics.false_match_rate(impostor, THRESHOLD), 6),
        "fnmr": round(metrics.false_non_match_rate(genuine, THRESHOLD), 6),
        "failures_to_acquire": failed,
        "failed_images": sorted(str(p) for p, v in cache.items() if v is None),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
