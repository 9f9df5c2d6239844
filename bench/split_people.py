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

from facegate.services.acquisition import find_identities
from facegate.services.dispense_rates import split_people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    people = find_identities(args.root)
    halves = split_people(people, args.seed)
    counts = {"calibration": len(halves[0]), "held-out": len(halves[1])}
    for side, names in zip(("calibration", "held-out"), halves, strict=True):
        for person in names:
            target = args.out / side / person
            target.mkdir(parents=True, exist_ok=True)
            for image in people[person]:
                link = target / image.name
                if not link.exists():
                    link.symlink_to(image.resolve())
    print(f"{args.out}: {counts['calibration']} people to calibrate, {counts['held-out']} held out")


if __name__ == "__main__":
    main()
