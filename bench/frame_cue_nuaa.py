"""The single-frame screen-and-print cue on NUAA (reporting only: nothing shipped is fitted here).

    .venv/bin/python bench/liveness_cache.py ../shared/data/liveness/nuaa-train/{live,print}
    .venv/bin/python bench/frame_cue_nuaa.py [--data ../shared/data] [--json]

Two rows, per subject and pooled (ISO/IEC 30107-3 rates per image):

- ``shipped``: the shipped weights (``frame_cue.SHIPPED``, fitted on the attack suite's
  calibration part and live video frames) on every NUAA image: what the cue does on a
  camera, people and prints it has never seen.
- ``loso``: leave one subject out: the same six measures and the same fitting rule
  (``fit_weights``: logistic regression, threshold refusing at most 2 % of the training
  live images) fitted on the other eight subjects' images, tested on the held-out
  subject's: what the measures can do when fitted on a site's own camera.

NUAA's live and print images of one subject come from different sessions, so the
per-subject rates also mix sessions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from facegate.domain.liveness import pad_rates
from facegate.vision.liveness.frame_cue import SHIPPED, FrameCueWeights, fit_weights
from liveness_cache import load_crops

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def scores(weights: FrameCueWeights, measures: np.ndarray) -> np.ndarray:
    return np.array([weights.score(row) for row in measures])


def rates(live: np.ndarray, attack: np.ndarray, threshold: float) -> dict[str, float | int]:
    return pad_rates(live, attack, threshold).as_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = args.data / "liveness" / "nuaa-train"
    live, attack = load_crops(root / "live"), load_crops(root / "print")
    live_subjects, attack_subjects = np.array(live.subjects), np.array(attack.subjects)
    subjects = sorted(set(live.subjects) | set(attack.subjects))
    shipped_live, shipped_attack = scores(SHIPPED, live.measures), scores(SHIPPED, attack.measures)
    loso_live, loso_attack = np.zeros(len(live.paths)), np.zeros(len(attack.paths))
    thresholds = {}
    per_subject = {}
    for subject in subjects:
        held_live, held_attack = live_subjects == subject, attack_subjects == subject
        train = np.concatenate([live.measures[~held_live], attack.measures[~held_attack]])
        labels = np.array([1] * int((~held_live).sum()) + [0] * int((~held_attack).sum()))
        fitted = fit_weights(train, labels)
        thresholds[subject] = fitted.threshold
        # Scores relative to each fold's own threshold, so they pool at 0.5.
        loso_live[held_live] = scores(fitted, live.measures[held_live]) - fitted.threshold + 0.5
        loso_attack[held_attack] = (
            scores(fitted, attack.measures[held_attack]) - fitted.threshold + 0.5
        )
        per_subject[subject] = {
            "shipped": rates(
                shipped_live[held_live], shipped_attack[held_attack], SHIPPED.threshold
            ),
            "loso": rates(loso_live[held_live], loso_attack[held_attack], 0.5),
        }
    result = {
        "shipped": rates(shipped_live, shipped_attack, SHIPPED.threshold),
        "loso": rates(loso_live, loso_attack, 0.5),
        "per_subject": per_subject,
        "skipped": len(live.skipped) + len(attack.skipped),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{'subject':8} {'shipped APCER':>14} {'BPCER':>7} {'loso APCER':>11} {'BPCER':>7}")
    for subject, row in [*per_subject.items(), ("pooled", result)]:
        s, v = row["shipped"], row["loso"]
        print(
            f"{subject:8} {s['apcer']:14.3f} {s['bpcer']:7.3f} {v['apcer']:11.3f} {v['bpcer']:7.3f}"
        )
    print(
        f"pooled ACER: shipped {result['shipped']['acer']:.3f}, loso {result['loso']['acer']:.3f}"
    )


if __name__ == "__main__":
    main()
