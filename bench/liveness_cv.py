"""Subject-disjoint cross-validation of the texture cue on NUAA (issue 6, item 4).

    .venv/bin/python bench/liveness_cv.py [--data ../shared/data] [--folds 3] [--json]

The 9 NUAA subjects are split into folds (fold i holds subjects i, i+k, i+2k, ...):
each fold is tested by a model trained on the others, whose threshold is chosen on its
own training folds (out-of-fold, subject-disjoint, by ``train_texture_model``), never on
the test fold. Rates are pooled over the test folds. Rows: each feature group alone
(each a cue measurable alone) and all groups fused into one classifier (the shipped
model). Face crops are cached under /tmp by bench/liveness_cache.py.

``--cross-session`` adds the shipped rule trained on one NUAA session (file name field 4)
and tested on the other session's images of the held-out subjects: a proxy for the NUAA
test split, which was recorded in other sessions and is not in ../shared/data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from facegate.domain.liveness import pad_rates
from facegate.vision.liveness.dataset import CropSet
from facegate.vision.liveness.features import FEATURE_GROUPS, FeatureGroup, texture_features
from facegate.vision.liveness.texture_model import (
    CANDIDATE_GROUPS,
    columns_of,
    train_texture_model,
)
from liveness_cache import load_crops

VARIANTS: dict[str, tuple[tuple[FeatureGroup, ...], ...]] = {
    "lbp_grey": (("lbp_grey",),),
    "lbp_colour": (("lbp_colour",),),
    "quality": (("quality",),),
    "scene": (("scene",),),
    "all_groups": (FEATURE_GROUPS,),
    "former_lbp_rule": (
        ("lbp_grey",),
        ("lbp_colour",),
        ("lbp_colour", "quality"),
        ("lbp_grey", "lbp_colour", "quality"),
    ),
    "shipped": CANDIDATE_GROUPS,
}


def features_of(crops: CropSet) -> np.ndarray:
    pairs = zip(crops.crops, crops.scenes, strict=True)
    return np.stack([texture_features(crop, FEATURE_GROUPS, scene) for crop, scene in pairs])


def splits(subjects, sessions, folds: int, cross_session: bool):
    """(train mask, test mask) pairs: subject folds, and with ``cross_session`` also the
    NUAA session (training on one session's images, testing on the other's)."""
    distinct = sorted(set(subjects))
    sessions = np.asarray(sessions)
    for fold in range(folds):
        held = set(distinct[fold::folds])
        test = np.array([s in held for s in subjects])
        if not cross_session:
            yield ~test, test
            continue
        for train_session, test_session in (("01", "02"), ("02", "01")):
            yield ~test & (sessions == train_session), test & (sessions == test_session)


def cross_validate(x, y, subjects, candidates, folds: int, sessions=None) -> dict:
    per_fold, live_scores, attack_scores, thresholds = [], [], [], []
    for train, test in splits(subjects, sessions, folds, sessions is not None):
        held = {s for s, t in zip(subjects, test, strict=True) if t}
        train_subjects = [s for s, t in zip(subjects, train, strict=True) if t]
        model = train_texture_model(x[train], y[train], train_subjects, candidates)
        scores = model.scores(x[test][:, columns_of(model.groups)])
        rates = pad_rates(scores[y[test] == 1], scores[y[test] == 0], model.threshold)
        per_fold.append(
            {"test_subjects": sorted(held), "groups": list(model.groups), **rates.as_dict()}
        )
        live_scores.append(scores[y[test] == 1] >= model.threshold)
        attack_scores.append(scores[y[test] == 0] >= model.threshold)
        thresholds.append(model.threshold)
    accepted_live = np.concatenate(live_scores)
    accepted_attack = np.concatenate(attack_scores)
    apcer, bpcer = float(accepted_attack.mean()), float(1.0 - accepted_live.mean())
    return {
        "apcer": round(apcer, 4),
        "bpcer": round(bpcer, 4),
        "acer": round((apcer + bpcer) / 2, 4),
        "bona_fide": int(accepted_live.size),
        "attacks": int(accepted_attack.size),
        "thresholds": [round(t, 4) for t in thresholds],
        "folds": per_fold,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared/data")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--cross-session",
        action="store_true",
        help="also train on one NUAA session and test on the other (shipped rule only)",
    )
    args = parser.parse_args()
    root = args.data / "liveness" / "nuaa-train"
    live, attack = load_crops(root / "live"), load_crops(root / "print")
    started = time.perf_counter()
    x = np.concatenate([features_of(live), features_of(attack)])
    feature_ms = (time.perf_counter() - started) * 1000 / len(x)
    y = np.concatenate([np.ones(len(live.paths), int), np.zeros(len(attack.paths), int)])
    subjects = live.subjects + attack.subjects
    report = {
        "feature_ms_per_face": round(feature_ms, 2),
        "skipped": len(live.skipped) + len(attack.skipped),
    }
    for name, candidates in VARIANTS.items():
        started = time.perf_counter()
        report[name] = cross_validate(x, y, subjects, candidates, args.folds)
        print(f"{name}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.cross_session:
        sessions = [p.name.split("_")[3] for p in live.paths + attack.paths]
        for name in list(VARIANTS):
            started = time.perf_counter()
            report[f"{name}_cross_session"] = cross_validate(
                x, y, subjects, VARIANTS[name], args.folds, sessions
            )
            VARIANTS[f"{name}_cross_session"] = VARIANTS[name]
            print(f"{name} cross-session: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{'cue':<30} {'APCER':>7} {'BPCER':>7} {'ACER':>7}   thresholds (per fold)")
    for name in VARIANTS:
        row = report[name]
        groups = [fold["groups"] for fold in row["folds"]] if name == "shipped" else ""
        print(
            f"{name:<30} {row['apcer']:>7.2%} {row['bpcer']:>7.2%} {row['acer']:>7.2%}   "
            f"{row['thresholds']} {groups}"
        )


if __name__ == "__main__":
    main()
