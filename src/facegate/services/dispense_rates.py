"""How well the dispenser's quota tells faces apart, on folder-per-person photo sets.

``facegate bench dispense`` splits the shared identity sets by people exactly as the
shipped threshold's calibration did (:func:`split_people`, seed 0: the threshold was
chosen on the *calibration* half) and measures on the *held-out* half:

- **repeat detection**: each person is served with their first photo (sorted by file
  name); each of their other photos comes back within the window and should be refused
  (distance to the served photo within the threshold). Rate = refused / returns.
- **false refusal, one served face**: a served person's first photo against every photo
  of every *other* person of the same set (the harder comparison: same camera, same
  lighting); refused when within the threshold. Rate per (served face, newcomer photo).
  ``repeat_missed`` is the other side of repeat detection (a second item given), with
  its upper bound.
- **false refusal, a full window**: every other person of the held-out half (all sets)
  served, once each; a newcomer photo is refused when any of them is within the
  threshold. Counted at that one memory size ``served``.

Each rate comes with its count and a one-sided 95 % upper bound (Clopper-Pearson; about
``3 / n``, the rule of 3, where none was counted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from facegate.domain.matching import FloatArray
from facegate.domain.metrics import binomial_upper_bound


def split_people(people: Mapping[str, Sequence[Path]], seed: int) -> tuple[list[str], list[str]]:
    """People split, per set (their folder's parent) and seeded, into two halves.

    The order of ``people`` matters (each set draws from one generator in turn): pass
    :func:`facegate.services.acquisition.find_identities`'s mapping unchanged.

    Returns:
        The calibration half and the held-out half (person names).
    """
    by_set: dict[str, list[str]] = {}
    for person in people:
        by_set.setdefault(person.rsplit("/", 1)[0] if "/" in person else "", []).append(person)
    rng = np.random.default_rng(seed)
    calibration: list[str] = []
    held_out: list[str] = []
    for names in by_set.values():
        order = rng.permutation(sorted(names)).tolist()
        half = len(order) // 2
        calibration += order[:half]
        held_out += order[half:]
    return calibration, held_out


def _rate(errors: int, trials: int) -> dict[str, Any]:
    return {
        "count": errors,
        "of": trials,
        "rate": round(errors / trials, 6) if trials else None,
        "upper_95": round(binomial_upper_bound(errors, trials), 6),
    }


def _set_of(person: str) -> str:
    return person.rsplit("/", 1)[0] if "/" in person else ""


def dispense_rates(
    descriptors: Mapping[str, Sequence[FloatArray]], threshold: float
) -> dict[str, Any]:
    """Repeat-detection and false-refusal rates at ``threshold`` (see the module).

    Args:
        descriptors: each person's photo descriptors, in file-name order (people with
            no described photo are left out).
        threshold: the euclidean distance under which a face counts as served.
    """
    people = [p for p, rows in descriptors.items() if len(rows) > 0]
    served = {p: np.asarray(descriptors[p][0], dtype=np.float64) for p in people}
    counts: dict[str, list[int]] = {}  # per set: refused, returns, one errors, one trials
    full_errors = full_trials = 0
    for person in people:
        tally = counts.setdefault(_set_of(person), [0, 0, 0, 0])
        for row in descriptors[person][1:]:
            tally[1] += 1
            tally[0] += int(np.linalg.norm(np.asarray(row) - served[person]) <= threshold)
        others = [p for p in people if p != person]
        memory = np.stack([served[p] for p in others])
        same_set = [served[p] for p in others if _set_of(p) == _set_of(person)]
        for row in descriptors[person]:
            probe = np.asarray(row, dtype=np.float64)
            full_trials += 1
            full_errors += int(np.linalg.norm(memory - probe, axis=1).min() <= threshold)
            if same_set:
                near = np.linalg.norm(np.stack(same_set) - probe, axis=1) <= threshold
                tally[2] += int(near.sum())
                tally[3] += len(same_set)
    refused, returns, one_errors, one_trials = (
        sum(t[i] for t in counts.values()) for i in range(4)
    )
    missed = _rate(returns - refused, returns)
    return {
        "threshold": threshold,
        "people": len(people),
        "photos": sum(len(descriptors[p]) for p in people),
        "repeat_detection": {
            "count": refused,
            "of": returns,
            "rate": round(refused / returns, 6) if returns else None,
            "lower_95": round(1.0 - missed["upper_95"], 6),
        },
        "repeat_missed": missed,
        "false_refusal_one_served": _rate(one_errors, one_trials),
        "false_refusal_full_window": _rate(full_errors, full_trials) | {"served": len(people) - 1},
        "by_set": {
            name: {
                "repeat_detected": f"{t[0]}/{t[1]}",
                "false_refusal_one_served": f"{t[2]}/{t[3]}",
            }
            for name, t in sorted(counts.items())
        },
    }
