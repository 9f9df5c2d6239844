"""Describe every face of the shared identity sets once, cached under /tmp (never the repo).

One descriptor per image (its primary face, the default engine, detection fallback as
configured), with whether the face passed the enrolment quality gate. The identity sets
are ``faces/*`` (about 78 people) and the NUAA live captures (9 more people, at most
``--nuaa-per-person`` images each, spread over their sessions).

    .venv/bin/python bench/face_cache.py ../shared/data

The cache is ``/tmp/facegate-faces/descriptors-<model>.npz`` (descriptors, people, paths,
passed); ``bench/fpir_gallery.py`` reads it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

CACHE_DIR = Path("/tmp/facegate-faces")


def cache_path(model_id: str) -> Path:
    return CACHE_DIR / f"descriptors-{model_id.replace('/', '-')}.npz"


def identity_images(data: Path, nuaa_per_person: int) -> dict[str, list[Path]]:
    from facegate.services.acquisition import find_identities

    people = {f"faces/{k}": v for k, v in find_identities(data / "faces").items()}
    live = data / "liveness" / "nuaa-train" / "live"
    if live.is_dir() and nuaa_per_person > 0:
        for name, paths in find_identities(live).items():
            step = max(1, len(paths) // nuaa_per_person)
            people[f"nuaa/{name}"] = paths[::step][:nuaa_per_person]
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--nuaa-per-person", type=int, default=12)
    args = parser.parse_args()
    from facegate.bootstrap import build_engine
    from facegate.config import Settings
    from facegate.vision.images import ImageLimits, load_image

    engine = build_engine(Settings())
    people = identity_images(args.data, args.nuaa_per_person)
    rows: list[tuple[str, str, np.ndarray, bool]] = []
    started, total = time.perf_counter(), sum(len(v) for v in people.values())
    for person, paths in sorted(people.items()):
        for path in paths:
            face = engine.primary_face(load_image(path, ImageLimits()))
            if face is None or face.descriptor is None:
                continue
            rows.append((person, str(path), face.descriptor, face.verdict.passed))
        print(f"{len(rows)}/{total} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    out = cache_path(engine.model_id)
    np.savez(
        out,
        descriptors=np.stack([r[2] for r in rows]),
        people=np.array([r[0] for r in rows]),
        paths=np.array([r[1] for r in rows]),
        passed=np.array([r[3] for r in rows]),
        model=np.array(engine.model_id),
    )
    print(f"{len(rows)} faces of {len({r[0] for r in rows})} people -> {out}")


if __name__ == "__main__":
    main()
