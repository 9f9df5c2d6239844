"""Split folder-per-person sets by people into a calibration half and a held-out half.

Thresholds are calibrated on one half and reported on the other, so no figure comes from
the images its threshold was tuned on. The halves are trees of symbolic links (nothing is
copied); the split is seeded and keeps each set's people together with their own set.

    python bench/split_people.py ../shared/data/faces --out /tmp/split [--seed 0]
    facegate calibrate /tmp/split/calibration --target-fmr 1e-2
    facegate eval identities /tmp/split/held-out
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from facegate.services.acquisition import find_identities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    people = find_identities(args.root)
    by_set: dict[str, list[str]] = {}
    for person in people:
        by_set.setdefault(person.rsplit("/", 1)[0] if "/" in person else "", []).append(person)
    rng = np.random.default_rng(args.seed)
    counts = {"calibration": 0, "held-out": 0}
    for names in by_set.values():
        order = rng.permutation(sorted(names)).tolist()
        half = len(order) // 2
        for index, person in enumerate(order):
            side = "calibration" if index < half else "held-out"
            target = args.out / side / person
            target.mkdir(parents=True, exist_ok=True)
            for image in people[person]:
                link = target / image.name
                if not link.exists():
                    link.symlink_to(image.resolve())
            counts[side] += 1
    print(f"{args.out}: {counts['calibration']} people to calibrate, {counts['held-out']} held out")


if __name__ == "__main__":
    main()
