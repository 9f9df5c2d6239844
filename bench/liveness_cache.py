"""Find and crop the faces of a liveness folder once, cached under /tmp (never the repo).

The cache holds each face's 64x64 crop and its frame's scene features.

    .venv/bin/python bench/liveness_cache.py ../shared/data/liveness/nuaa-train/live

The cache file is ``/tmp/facegate-liveness/<folder-name>-<hash>.npz`` (crops, paths,
subjects, skipped); the CV bench reads it.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

import numpy as np

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.dataset import CropSet, collect_crops, list_images
from facegate.vision.liveness.features import FEATURE_VERSION
from facegate.vision.liveness.frame_measures import MEASURES_VERSION

CACHE_DIR = Path("/tmp/facegate-liveness")


def cache_path(root: Path) -> Path:
    digest = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]
    version = f"{FEATURE_VERSION}-{MEASURES_VERSION}".replace("/", "-")
    return CACHE_DIR / f"{root.name}-{digest}-{version}.npz"


def load_crops(root: Path, engine: FaceEngine | None = None) -> CropSet:
    path = cache_path(root)
    if path.is_file():
        data = np.load(path, allow_pickle=False)
        pairs = zip(data["skipped_paths"], data["skipped_why"], strict=True)
        skipped = [(Path(p), str(why)) for p, why in pairs]
        return CropSet(
            crops=data["crops"],
            scenes=data["scenes"],
            measures=data["measures"],
            paths=[Path(p) for p in data["paths"]],
            subjects=[str(s) for s in data["subjects"]],
            skipped=skipped,
        )
    engine = engine or build_engine(Settings())
    started = time.perf_counter()
    crops = collect_crops(engine, root, Settings().images, paths=list_images(root))
    print(
        f"{root}: {len(crops.paths)} faces, {len(crops.skipped)} skipped, "
        f"{time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        crops=crops.crops,
        scenes=crops.scenes,
        measures=crops.measures,
        paths=np.array([str(p) for p in crops.paths]),
        subjects=np.array(crops.subjects),
        skipped_paths=np.array([str(p) for p, _ in crops.skipped], dtype=str),
        skipped_why=np.array([why for _, why in crops.skipped], dtype=str),
    )
    return crops


if __name__ == "__main__":
    engine = build_engine(Settings())
    for folder in sys.argv[1:]:
        load_crops(Path(folder), engine)
