"""Whose faces should a door's gallery hold? Every resident, or only those allowed there?

Measures, on real descriptors of the shared face sets, how often a resident who is NOT
allowed at a door is identified as one who IS (a wrong grant), and how often an allowed
resident is granted, with a gallery of

- ``site``: every resident of the site (the not-allowed resident usually finds
  themselves nearest and is refused by the rules), or
- ``allowed``: only the residents allowed at that door (the not-allowed resident can
  only be matched to someone else, granted when under the threshold).

Each trial puts a random ``--allowed-share`` of the people on the door's rule; every
person is enrolled with their first ``--enrol`` descriptors and probed with the rest.
Descriptors are computed once with the default engine and cached outside the repository
(``~/.cache/facegate/snap-gallery-<hash>.npz``); nothing from the data set is written
into the project.

    PYTHONPATH=src .venv/bin/python bench/gallery_scope.py ../shared/data/faces \
        --threshold 0.57 --margins 0 0.05 --trials 200
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from facegate.domain.matching import FloatArray, Gallery
from facegate.domain.reasons import Reason
from facegate.services.acquisition import find_identities


def _describe(paths: list[Path]) -> dict[str, FloatArray]:
    from facegate.bootstrap import build_engine
    from facegate.config import Settings
    from facegate.vision.engine import descriptor_of
    from facegate.vision.images import load_image

    engine = build_engine(Settings())
    found: dict[str, FloatArray] = {}
    for path in paths:
        try:
            face = engine.primary_face(load_image(path))
        except Exception:
            continue
        if face is not None and face.descriptor is not None:
            found[str(path)] = descriptor_of(face)
    return found


def descriptors(root: Path) -> dict[str, list[FloatArray]]:
    """Each person's descriptors (person = folder), from the cache when there is one."""
    people = find_identities(root)
    paths = sorted(p for ps in people.values() for p in ps)
    digest = hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest()[:16]
    cache = Path.home() / ".cache" / "facegate" / f"snap-gallery-{digest}.npz"
    if cache.exists():
        stored = np.load(cache)
        found = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    else:
        found = _describe(paths)
        cache.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(found)
        np.savez(cache, keys=np.array(keys), vectors=np.stack([found[k] for k in keys]))
    return {
        name: [found[str(p)] for p in sorted(ps) if str(p) in found] for name, ps in people.items()
    }


def _gallery(enrolled: dict[str, list[FloatArray]], names: list[str]) -> Gallery:
    gallery = Gallery()
    for name in names:
        gallery.add(name, enrolled[name])
    return gallery


def trial(
    people: dict[str, list[FloatArray]],
    rng: np.random.Generator,
    share: float,
    enrol: int,
    threshold: float,
    margin: float,
) -> dict[str, list[int]]:
    """Counts of one trial: [events, wrong or right grants] per scope and probe group."""
    names = sorted(people)
    allowed = set(rng.choice(names, size=max(1, int(len(names) * share)), replace=False))
    enrolled = {n: people[n][:enrol] for n in names}
    galleries = {
        "site": _gallery(enrolled, names),
        "allowed": _gallery(enrolled, sorted(allowed)),
    }
    counts = {f"{s}_{g}": [0, 0] for s in galleries for g in ("outsider", "allowed")}
    for name in names:
        group = "allowed" if name in allowed else "outsider"
        for probe in people[name][enrol:]:
            for scope, gallery in galleries.items():
                found = gallery.identify(probe, threshold, margin)
                granted = found.reason is Reason.GRANTED and found.person_id in allowed
                right = granted and found.person_id == name
                tally = counts[f"{scope}_{group}"]
                tally[0] += 1
                tally[1] += int(granted and not right) if group == "outsider" else int(right)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--threshold", type=float, default=0.57)
    parser.add_argument("--margins", type=float, nargs="+", default=[0.0, 0.05])
    parser.add_argument("--allowed-share", type=float, default=0.5)
    parser.add_argument("--enrol", type=int, default=2)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    people = {n: d for n, d in descriptors(args.root).items() if len(d) > args.enrol}
    results = []
    for margin in args.margins:
        rng = np.random.default_rng(args.seed)
        total: dict[str, list[int]] = {}
        for _ in range(args.trials):
            for key, (events, hits) in trial(
                people, rng, args.allowed_share, args.enrol, args.threshold, margin
            ).items():
                tally = total.setdefault(key, [0, 0])
                tally[0], tally[1] = tally[0] + events, tally[1] + hits
        results.append(
            {
                "threshold": args.threshold,
                "min_margin": margin,
                "people": len(people),
                "trials": args.trials,
                "outsider_probes": total["site_outsider"][0],
                "wrong_grant_rate_site_gallery": total["site_outsider"][1]
                / total["site_outsider"][0],
                "wrong_grant_rate_allowed_gallery": total["allowed_outsider"][1]
                / total["allowed_outsider"][0],
                "allowed_probes": total["site_allowed"][0],
                "grant_rate_site_gallery": total["site_allowed"][1] / total["site_allowed"][0],
                "grant_rate_allowed_gallery": total["allowed_allowed"][1]
                / total["allowed_allowed"][0],
            }
        )
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
