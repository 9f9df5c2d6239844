"""Write a balanced pair protocol (CSV: file_x,file_y,decision) from a folder-per-person set.

Every genuine pair of the set, and as many impostor pairs drawn at random (seeded), the
way LFW's protocol balances them. Paths are written relative to the set's folder, so
`facegate eval pairs --pairs OUT --root DIR` reads them back.

    python bench/make_pairs.py ../shared/data/faces/lfw10 --out /tmp/lfw10-pairs.csv
"""

from __future__ import annotations

import argparse
import csv
import itertools
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
    genuine = [(a, b) for paths in people.values() for a, b in itertools.combinations(paths, 2)]
    everyone = [(name, p) for name, paths in people.items() for p in paths]
    rng = np.random.default_rng(args.seed)
    impostor: set[tuple[Path, Path]] = set()
    while len(impostor) < len(genuine):
        i, j = rng.integers(len(everyone), size=2)
        (name_a, a), (name_b, b) = everyone[i], everyone[j]
        if name_a != name_b:
            impostor.add((min(a, b), max(a, b)))
    with args.out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_x", "file_y", "decision"])
        for (a, b), decision in [(p, "Yes") for p in genuine] + [
            (p, "No") for p in sorted(impostor)
        ]:
            writer.writerow([a.relative_to(args.root), b.relative_to(args.root), decision])
    print(f"{args.out}: {len(genuine)} genuine and {len(impostor)} impostor pairs")


if __name__ == "__main__":
    main()
