"""Strangers against a large gallery, duplicate enrolments, and the margin: measured on real faces.

Reads the descriptors ``bench/face_cache.py`` wrote (87 real people of the shared sets:
faces/att, yale, lfw10, johns, tvcast and 9 NUAA subjects). People are split, per set and
seeded, into a *choose* half and a *report* half (as ``bench/split_people.py`` does): the
duplicate threshold and the margin are chosen on the first and reported on the second.

Within a half, every person is in turn an enrolled resident (3 templates: their first 3
images in a seeded order) and every image of every *other* person is a stranger probe
against them; a resident's remaining images are their genuine probes. Figures:

- ``pairs``: image-pair genuine and impostor distance percentiles, the smallest impostor
  distances (who they are), FMR at thresholds.
- ``stranger_vs_person``: the rate at which a stranger's probe falls within ``t`` of one
  enrolled person (nearest of their 3 templates), counted, with the 95 % upper bound
  (rule of 3 when none), and what it means against ``N`` residents,
  ``FPIR(N) = 1 - (1 - rate)^N`` (independent residents; an extrapolation, since
  N = 2,000 real people are not in the shared data). ``fpir_gauss`` extrapolates the
  rate from a normal fit of the per-person impostor distances instead of counting.
- ``genuine``: FNIR of an enrolled person's own probes at ``t`` (nearest of their 3
  templates above ``t``) and with the margin rule against the half's other residents.
- ``duplicate``: the smallest distance between two different people's enrolment sets
  (the duplicate check compares each new photo with every template of everyone else)
  and the share of same-person enrolment sets (a person enrolled twice, other photos)
  the check catches at each candidate threshold.

- ``effective`` (with ``--curve``): the per-person stranger curve counted on the *choose*
  half (written to the given file: the curve facegate ships,
  ``src/facegate/domain/impostor_curve.json``), the 1:N threshold it gives for galleries of
  each size (target ``--max-fpir``), and on the *report* half at the threshold for its own
  size: FNIR of residents' photos (threshold and margin) and FPIR of stranger photos
  against all its residents (counted), and the threshold and extrapolated FPIR at ``--n``.

    .venv/bin/python bench/fpir_gallery.py [--seed 0] [--n 2000] [--curve FILE]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

CACHE = Path("/tmp/facegate-faces/descriptors-dlib-resnet-v1.npz")
THRESHOLDS = (0.35, 0.38, 0.40, 0.42, 0.45, 0.48, 0.50, 0.52, 0.55, 0.57, 0.60)
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.10)
DUPLICATE_CANDIDATES = (0.30, 0.32, 0.34, 0.35, 0.36, 0.38, 0.40, 0.42, 0.45)


def set_of(person: str) -> str:
    parts = person.split("/")
    return parts[1] if parts[0] == "faces" else parts[0]


def split_people(people: list[str], seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    by_set: dict[str, list[str]] = {}
    for person in sorted(people):
        by_set.setdefault(set_of(person), []).append(person)
    choose, report = [], []
    for members in by_set.values():
        order = list(rng.permutation(len(members)))
        half = len(members) // 2
        choose += [members[i] for i in order[:half]]
        report += [members[i] for i in order[half:]]
    return choose, report


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(squared, 0.0, None))


def upper_95(count: int, total: int) -> float:
    if total == 0:
        return float("nan")
    if count == 0:
        return 3.0 / total
    rate = count / total
    return rate + 1.96 * math.sqrt(rate * (1 - rate) / total)


def fpir(rate: float, n: int) -> float:
    return 1.0 - (1.0 - min(rate, 1.0)) ** n


class Half:
    """One half's people: enrolment sets, probes and their distances."""

    def __init__(self, x: np.ndarray, people: np.ndarray, members: list[str], seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.members = members
        self.enrol: dict[str, np.ndarray] = {}
        self.probes: dict[str, np.ndarray] = {}
        for person in members:
            rows = x[people == person]
            rows = rows[rng.permutation(len(rows))]
            self.enrol[person], self.probes[person] = rows[:3], rows[3:]
        everyone = [(p, row) for p in members for row in x[people == p]]
        self.all_rows = np.stack([row for _, row in everyone])
        self.all_owner = np.array([p for p, _ in everyone])
        # person_dist[i, j]: image i to enrolled person j (nearest of 3 templates)
        self.person_dist = np.stack(
            [distances(self.all_rows, self.enrol[p]).min(1) for p in members], axis=1
        )
        self.own = self.all_owner[:, None] == np.array(members)[None, :]

    def impostor_person_distances(self) -> np.ndarray:
        return self.person_dist[~self.own]

    def genuine_probe_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Distances of genuine probes (not enrolment images) to every resident, and owners."""
        rows, owners = [], []
        for j, person in enumerate(self.members):
            if len(self.probes[person]):
                d = np.stack(
                    [distances(self.probes[person], self.enrol[p]).min(1) for p in self.members],
                    axis=1,
                )
                rows.append(d)
                owners += [j] * len(d)
        return np.concatenate(rows), np.array(owners)


def pair_figures(x: np.ndarray, people: np.ndarray) -> dict[str, Any]:
    d = distances(x, x)
    iu = np.triu_indices(len(x), 1)
    same = (people[:, None] == people[None, :])[iu]
    sets = np.array([set_of(p) for p in people])
    same_set = (sets[:, None] == sets[None, :])[iu]
    values = d[iu]
    genuine, impostor = values[same], values[~same]
    order = np.argsort(np.where(same, np.inf, values))[:5]
    return {
        "images": len(x),
        "people": len(set(people)),
        "genuine_pairs": int(genuine.size),
        "impostor_pairs": int(impostor.size),
        "genuine_percentiles": dict(
            zip(
                ("50", "90", "99", "max"),
                [
                    round(float(v), 3)
                    for v in (*np.percentile(genuine, [50, 90, 99]), genuine.max())
                ],
                strict=True,
            )
        ),
        "impostor_smallest": [
            [round(float(values[k]), 3), str(people[iu[0][k]]), str(people[iu[1][k]])]
            for k in order
        ],
        "fmr": {f"{t:.2f}": float(np.mean(impostor <= t)) for t in THRESHOLDS},
        "fmr_same_set": {
            f"{t:.2f}": float(np.mean(values[~same & same_set] <= t)) for t in THRESHOLDS
        },
        "genuine_match_rate": {
            f"{t:.2f}": round(float(np.mean(genuine <= t)), 4) for t in THRESHOLDS
        },
    }


def stranger_figures(half: Half, n: int) -> dict[str, Any]:
    imp = half.impostor_person_distances()
    mean, sd = float(imp.mean()), float(imp.std())
    out: dict[str, Any] = {
        "comparisons": int(imp.size),
        "fit_mean": round(mean, 4),
        "fit_sd": round(sd, 4),
    }
    for t in THRESHOLDS:
        count = int((imp <= t).sum())
        rate = count / imp.size
        gauss = 0.5 * math.erfc((mean - t) / (sd * math.sqrt(2)))
        out[f"{t:.2f}"] = {
            "count": count,
            "rate": rate,
            "rate_upper_95": upper_95(count, imp.size),
            f"fpir_n{n}": round(fpir(rate, n), 4),
            f"fpir_n{n}_upper_95": round(fpir(upper_95(count, imp.size), n), 4),
            f"fpir_n{n}_gauss": round(fpir(gauss, n), 4),
        }
    return out


def genuine_figures(half: Half) -> dict[str, Any]:
    d, owners = half.genuine_probe_rows()
    own = d[np.arange(len(d)), owners]
    others = d.copy()
    others[np.arange(len(d)), owners] = np.inf
    second = others.min(1)
    out: dict[str, Any] = {"probes": len(d)}
    for t in THRESHOLDS:
        row = {}
        for m in MARGINS:
            granted = (own <= t) & (second - own >= m)
            row[f"{m:.2f}"] = round(float(1.0 - granted.mean()), 4)
        out[f"{t:.2f}"] = row
    wrong = others.min(1) < own
    out["rank1_errors"] = int(wrong.sum())
    return out


def stranger_margin_figures(half: Half, t: float) -> dict[str, Any]:
    """Strangers: how often, given two+ residents, the margin alone refuses a match at ``t``.

    Per stranger image against the half's other residents: best and second distance.
    """
    d = np.where(half.own, np.inf, half.person_dist)
    ordered = np.sort(d, axis=1)
    best, second = ordered[:, 0], ordered[:, 1]
    matched = best <= t
    return {
        f"{m:.2f}": {
            "stranger_matches": int((matched & (second - best >= m)).sum()),
            "of": len(best),
        }
        for m in MARGINS
    }


def duplicate_figures(half: Half) -> dict[str, Any]:
    """Distances between enrolment sets: different people, and the same person twice."""
    different = []
    for i, a in enumerate(half.members):
        for b in half.members[i + 1 :]:
            different.append(distances(half.enrol[a], half.enrol[b]).min())
    same = []
    for person in half.members:
        if len(half.probes[person]) >= 1:
            same.append(distances(half.probes[person][:3], half.enrol[person]).min())
    diff_arr, same_arr = np.array(different), np.array(same)
    return {
        "person_pairs": int(diff_arr.size),
        "closest_different_people": [round(float(v), 3) for v in np.sort(diff_arr)[:5]],
        "same_person_twice": int(same_arr.size),
        "same_person_distance_max": round(float(same_arr.max()), 3),
        "candidates": {
            f"{t:.2f}": {
                "different_people_flagged": int((diff_arr <= t).sum()),
                "same_person_caught": round(float(np.mean(same_arr <= t)), 4),
            }
            for t in DUPLICATE_CANDIDATES
        },
    }


def finite(value: float) -> float | None:
    """``value``, or ``None`` (JSON null) for -inf: no threshold, the face names nobody."""
    return value if math.isfinite(value) else None


def report_at(half: Half, threshold: float, margin: float) -> dict[str, Any]:
    """Every resident of the half enrolled: their own probes refused, strangers matched.

    FNIR: a resident's own probe (not an enrolment image) refused at ``threshold`` with
    the margin rule among all the half's residents. FPIR: every image of the half, each
    searched as a stranger against the half's other residents (leave its owner out),
    matched to someone within ``threshold`` and the margin.
    """
    if not math.isfinite(threshold):
        return {"threshold": None, "fnir": 1.0, "fpir": 0.0}
    d, owners = half.genuine_probe_rows()
    own = d[np.arange(len(d)), owners]
    others = d.copy()
    others[np.arange(len(d)), owners] = np.inf
    granted = (own <= threshold) & (others.min(1) - own >= margin)
    strangers = np.sort(np.where(half.own, np.inf, half.person_dist), axis=1)
    best, second = strangers[:, 0], strangers[:, 1]
    matched = (best <= threshold) & (second - best >= margin)
    return {
        "threshold": threshold,
        "genuine_probes": len(d),
        "fnir": round(float(1.0 - granted.mean()), 4),
        "fnir_threshold_only": round(float(np.mean(own > threshold)), 4),
        "stranger_images": len(best),
        "strangers_matched": int(matched.sum()),
        "fpir": round(float(matched.mean()), 4),
    }


def effective(
    x: np.ndarray, people: np.ndarray, choose: list[str], report: list[str], args: Any
) -> dict[str, Any]:
    """Count the curve on the choose half; apply it to the report half (see the docstring)."""
    from facegate.domain.impostors import ImpostorCurve, identification_threshold
    from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD, DEFAULT_MIN_MARGIN

    chosen = Half(x, people, choose, args.seed)
    curve = ImpostorCurve.count(
        chosen.impostor_person_distances(),
        source=(
            f"bench/fpir_gallery.py --seed {args.seed}: choose half, {len(choose)} real people "
            "of the shared sets (faces/* and NUAA live), 3 templates each, every other "
            "person's photos as strangers"
        ),
    )
    raw = curve.to_json()
    points = ",\n  ".join(json.dumps(p) for p in raw.pop("points"))
    head = json.dumps(raw, indent=1)[:-2]
    args.curve.write_text(f'{head},\n "points": [\n  {points}\n ]\n}}\n', encoding="utf-8")

    def limit(n: int) -> float:
        return identification_threshold(DEFAULT_MATCH_THRESHOLD, args.max_fpir, curve, n)

    sizes = (1, 2, 5, 10, 20, 45, 63, 64, 100, 500, args.n)
    out: dict[str, Any] = {
        "curve": str(args.curve),
        "max_fpir": args.max_fpir,
        "comparisons": curve.comparisons,
        "threshold_by_people": {str(n): finite(limit(n)) for n in sizes},
    }
    half = Half(x, people, report, args.seed)
    n = len(report)
    imp = half.impostor_person_distances()
    rates = {
        name: float(np.mean(imp <= t)) if math.isfinite(t) else 0.0
        for name, t in (("at_n", limit(n)), ("at_big_n", limit(args.n)))
    }
    out["report"] = {
        "people": n,
        "at_effective": report_at(half, limit(n), DEFAULT_MIN_MARGIN),
        "at_0.57": report_at(half, DEFAULT_MATCH_THRESHOLD, DEFAULT_MIN_MARGIN),
        "per_person_rate_at_effective": rates["at_n"],
        f"fpir_n{n}_from_rate": round(fpir(rates["at_n"], n), 4),
    }
    big = limit(args.n)
    out[f"n{args.n}"] = {
        "threshold": finite(big),
        "report_per_person_rate": rates["at_big_n"],
        "fpir_extrapolated": round(fpir(rates["at_big_n"], args.n), 4),
        "resident_refused_face_alone": report_at(half, big, DEFAULT_MIN_MARGIN)["fnir"],
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--curve", type=Path, help="write the choose half's impostor curve here")
    parser.add_argument("--max-fpir", type=float, default=1e-2)
    args = parser.parse_args()
    data = np.load(args.cache)
    x, people = data["descriptors"].astype(np.float64), data["people"]
    choose, report = split_people(sorted(set(people.tolist())), args.seed)
    result: dict[str, Any] = {
        "cache": str(args.cache),
        "seed": args.seed,
        "n": args.n,
        "pairs_all": pair_figures(x, people),
    }
    for name, members in (("choose", choose), ("report", report)):
        half = Half(x, people, members, args.seed)
        result[name] = {
            "people": len(members),
            "stranger_vs_person": stranger_figures(half, args.n),
            "genuine_fnir": genuine_figures(half),
            "stranger_margin_at_0.57": stranger_margin_figures(half, 0.57),
            "duplicate": duplicate_figures(half),
        }
    if args.curve is not None:
        result["effective"] = effective(x, people, choose, report, args)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
