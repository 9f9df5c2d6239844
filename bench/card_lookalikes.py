"""Strangers holding a resident's card: how close their faces come to the card holders.

The site bench (``facegate bench site``) lends each real stranger the card of a real
resident of the door's building, so the face is checked 1:1 against that resident's
templates. This prints, with the bench's own cast (the same descriptors, cached in the
cache folder), the distances behind that check:

- for ``--stranger`` (default ``nuaa/0007``, granted at an edge gate in two runs), the
  residents nearest to any of their presented frames (minimum and median over the
  frames, share of frames within 0.57);
- for video strangers (NUAA captures) and photo strangers apart: how many
  (stranger, resident) pairs have a presented frame within 0.57 / 0.51 / 0.45 / 0.40 of
  the resident's templates, and the same per frame.

    PYTHONPATH=src .venv/bin/python bench/card_lookalikes.py --data ../shared/data
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

from facegate.bootstrap import build_engine
from facegate.config import Settings
from facegate.sitebench import population
from facegate.sitebench.corpus import Corpus, RealPerson
from facegate.sitebench.people import Cast, cast

THRESHOLDS = (0.57, 0.51, 0.45, 0.40)
Matrix = npt.NDArray[np.float32]


def _frames(people: Cast, person: RealPerson) -> Matrix:
    rows = [people.vectors[k] for clip in person.probes for k in clip if k in people.vectors]
    return np.stack(rows) if rows else np.empty((0, 128), np.float32)


def _distances(frames: Matrix, enrolled: Matrix) -> npt.NDArray[np.float64]:
    """Each frame's distance to the nearest of ``enrolled`` (the 1:1 check's distance)."""
    gaps = np.linalg.norm(frames[:, None, :] - enrolled[None, :, :], axis=2)
    return gaps.min(axis=1).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--stranger", default="nuaa/0007")
    parser.add_argument("--nearest", type=int, default=8)
    args = parser.parse_args()
    settings = Settings()
    engine = build_engine(settings)
    people = cast(Corpus(args.data, settings.cache_dir), engine, 5, 20, population.BUILDINGS)
    by_name = {p.name: p for p in (*people.video, *people.photos)}
    enrolled = {
        name: np.stack([people.vectors[k] for k in people.enrol_keys(by_name[name])])
        for name in people.residents
    }
    probe = _frames(people, by_name[args.stranger])
    nearest = []
    for name, templates in enrolled.items():
        d = _distances(probe, templates)
        nearest.append(
            {
                "resident": name,
                "building": people.residents[name],
                "min": round(float(d.min()), 4),
                "median": round(float(np.median(d)), 4),
                "frames_within_0.57": f"{int((d <= 0.57).sum())}/{len(d)}",
            }
        )
    nearest.sort(key=lambda row: float(str(row["min"])))
    report: dict[str, object] = {
        "stranger": args.stranger,
        "residents": len(enrolled),
        "nearest": nearest[: args.nearest],
    }
    for kind, group in (("video", people.video), ("photos", people.photos)):
        strangers = [p for p in group if p.name not in people.residents]
        pairs = dict.fromkeys(THRESHOLDS, 0)
        frames = dict.fromkeys(THRESHOLDS, 0)
        counted_pairs = counted_frames = 0
        for stranger in strangers:
            probe = _frames(people, stranger)
            if not len(probe):
                continue
            for templates in enrolled.values():
                d = _distances(probe, templates)
                counted_pairs += 1
                counted_frames += len(d)
                for t in THRESHOLDS:
                    pairs[t] += bool(d.min() <= t)
                    frames[t] += int((d <= t).sum())
        report[kind] = {
            "strangers": len(strangers),
            "pairs": counted_pairs,
            "pairs_with_a_frame_within": {str(t): pairs[t] for t in THRESHOLDS},
            "frame_comparisons": counted_frames,
            "frame_comparisons_within": {str(t): frames[t] for t in THRESHOLDS},
        }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
