"""Evaluate the face engine the way ISO/IEC 19795-1 asks: error rates with their support.

Two protocols:

- pairs: a list of (image, image, same?) pairs; accuracy at the policy's threshold, the
  best achievable accuracy, FMR and FNMR, EER. A pair with an image that yields no face
  counts as an error in accuracy and is reported.
- identities: a folder-per-person set; every genuine and impostor comparison among the
  acquired images (verification), and an open-set identification experiment with a
  seeded split into enrolled and non-enrolled people.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from facegate.domain import metrics
from facegate.domain.impostors import CURVE_GRID, ImpostorCurve
from facegate.domain.matching import FloatArray, Gallery, as_descriptor_matrix, pairwise_distances
from facegate.ports import PhotoDescriber, Progress
from facegate.services.acquisition import Acquisition, acquire, find_identities
from facegate.services.pairs import PairSpec

FMR_TARGETS: tuple[str, ...] = ("1e-2", "1e-3", "1e-4")
"""The false-match rates at which FNMR is reported (keys of ``fnmr_at_fmr``)."""

FPIR_TARGETS: tuple[str, ...] = ("1e-2", "1e-3")
"""The false-positive identification rates at which FNIR is reported."""

Scores = npt.NDArray[np.float64]

ImpostorScope = Literal["all", "same_set"]
"""Which pairs of different people are compared (see :func:`comparison_scores`)."""


def _rounded(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


@dataclass(frozen=True, slots=True)
class ScoreSets:
    """Genuine and impostor distances of one evaluation."""

    genuine: Scores
    impostor: Scores

    @property
    def complete(self) -> bool:
        """Whether there are both genuine and impostor scores (needed for curves)."""
        return self.genuine.size > 0 and self.impostor.size > 0

    def rates_at(self, threshold: float) -> dict[str, float | None]:
        """FMR and FNMR at ``threshold``; the EER and its threshold (``None`` if incomplete)."""
        eer, eer_threshold = (
            metrics.equal_error_rate(self.genuine, self.impostor) if self.complete else (None, None)
        )
        return {
            "fmr": _rounded(metrics.false_match_rate(self.impostor, threshold)),
            "fnmr": _rounded(metrics.false_non_match_rate(self.genuine, threshold)),
            "eer": _rounded(eer),
            "eer_threshold": _rounded(eer_threshold),
        }


@dataclass(frozen=True, slots=True)
class PairsReport:
    """The outcome of a pair protocol (see :func:`evaluate_pairs`)."""

    scores: ScoreSets
    pairs: int
    failed_pairs: int
    threshold: float
    acquisition: Acquisition

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON keys and a few more."""
        genuine, impostor = self.scores.genuine, self.scores.impostor
        best_threshold, best_accuracy = (
            metrics.best_accuracy_threshold(genuine, impostor, self.failed_pairs)
            if self.scores.complete
            else (None, None)
        )
        return {
            "pairs": self.pairs,
            "genuine_pairs": int(genuine.size),
            "impostor_pairs": int(impostor.size),
            "accuracy": _rounded(
                metrics.accuracy_at(genuine, impostor, self.threshold, self.failed_pairs)
            ),
            "threshold": _rounded(self.threshold),
            "best_threshold": _rounded(best_threshold),
            "best_threshold_accuracy": _rounded(best_accuracy),
            **self.scores.rates_at(self.threshold),
            "failures_to_acquire": self.failed_pairs,
            "failed_images": self.acquisition.failure_list(),
        }


def evaluate_pairs(
    pairs: list[PairSpec],
    describer: PhotoDescriber,
    threshold: float,
    progress: Progress | None = None,
    *,
    workers: int = 1,
) -> PairsReport:
    """Run a pair protocol.

    Args:
        pairs: the pairs.
        describer: turns a photo into its primary face's descriptor.
        threshold: the distance threshold the accuracy, FMR and FNMR are reported at.
        progress: told of each described image.
        workers: processes to describe images in (see :func:`acquire`).
    """
    paths = [p.first for p in pairs] + [p.second for p in pairs]
    acquisition = acquire(paths, describer, progress, workers=workers)
    genuine: list[float] = []
    impostor: list[float] = []
    failed = 0
    for pair in pairs:
        a = acquisition.descriptors.get(pair.first)
        b = acquisition.descriptors.get(pair.second)
        if a is None or b is None:
            failed += 1
            continue
        distance = float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))
        (genuine if pair.same else impostor).append(distance)
    scores = ScoreSets(np.asarray(genuine, np.float64), np.asarray(impostor, np.float64))
    return PairsReport(scores, len(pairs), failed, threshold, acquisition)


@dataclass(frozen=True, slots=True)
class OpenSetResult:
    """Searches of an open-set identification experiment."""

    enrolled_people: int
    failed_enrolments: int
    mated: list[metrics.SearchOutcome]
    non_mated: list[metrics.SearchOutcome]


@dataclass(frozen=True, slots=True)
class IdentitiesReport:
    """The outcome of a folder-per-person evaluation (see :func:`evaluate_identities`)."""

    scores: ScoreSets
    people: int
    images: int
    threshold: float
    seed: int
    acquisition: Acquisition
    open_set: OpenSetResult

    def as_dict(self) -> dict[str, Any]:
        """The contract's JSON keys and a few more."""
        genuine, impostor = self.scores.genuine, self.scores.impostor
        open_set = self.open_set
        candidates = open_set.enrolled_people + open_set.failed_enrolments
        return {
            "people": self.people,
            "images": self.images,
            "genuine_comparisons": int(genuine.size),
            "impostor_comparisons": int(impostor.size),
            "threshold": _rounded(self.threshold),
            **self.scores.rates_at(self.threshold),
            "fnmr_at_fmr": {
                key: _rounded(metrics.fnmr_at_fmr(genuine, impostor, float(key)))
                for key in FMR_TARGETS
            },
            "fte": _rounded(open_set.failed_enrolments / candidates if candidates else 0.0),
            "fta": _rounded(len(self.acquisition.failures) / self.images if self.images else 0.0),
            "enrolled_people": open_set.enrolled_people,
            "mated_searches": len(open_set.mated),
            "non_mated_searches": len(open_set.non_mated),
            "fnir_at_fpir": {
                key: _rounded(metrics.fnir_at_fpir(open_set.mated, open_set.non_mated, float(key)))
                for key in FPIR_TARGETS
            },
            "fpir": _rounded(metrics.fpir_at(open_set.non_mated, self.threshold)),
            "fnir": _rounded(metrics.fnir_at(open_set.mated, self.threshold)),
            "seed": self.seed,
            "failed_images": self.acquisition.failure_list(),
        }


def evaluate_identities(
    root: Path,
    describer: PhotoDescriber,
    threshold: float,
    seed: int = 0,
    progress: Progress | None = None,
    impostors: ImpostorScope = "all",
    *,
    workers: int = 1,
) -> IdentitiesReport:
    """Evaluate verification and open-set identification on a folder-per-person set.

    Args:
        root: the set's folder (see :func:`find_identities`).
        describer: turns a photo into its primary face's descriptor.
        threshold: the distance threshold FMR, FNMR, FPIR and FNIR are reported at.
        seed: seed of the open-set split into enrolled and non-enrolled people.
        progress: told of each described image.
        impostors: which impostor pairs are compared (see :func:`comparison_scores`);
            the open-set searches always run against the whole gallery.
        workers: processes to describe images in (see :func:`acquire`).
    """
    people, acquisition, scores = identity_scores(
        root, describer, progress, impostors, workers=workers
    )
    open_set = open_set_searches(people, acquisition, seed)
    images = sum(len(paths) for paths in people.values())
    return IdentitiesReport(scores, len(people), images, threshold, seed, acquisition, open_set)


def identity_scores(
    root: Path,
    describer: PhotoDescriber,
    progress: Progress | None = None,
    impostors: ImpostorScope = "all",
    *,
    workers: int = 1,
) -> tuple[dict[str, list[Path]], Acquisition, ScoreSets]:
    """A folder-per-person set's people, their acquisition, and its comparison scores.

    ``impostors`` is passed to :func:`comparison_scores`, ``workers`` to :func:`acquire`.
    """
    people = find_identities(root)
    every_image = [p for paths in people.values() for p in paths]
    acquisition = acquire(every_image, describer, progress, workers=workers)
    by_person = {
        person: [acquisition.descriptors[p] for p in paths if p in acquisition.descriptors]
        for person, paths in people.items()
    }
    return people, acquisition, comparison_scores(by_person, impostors=impostors)


def set_of(person: str) -> str:
    """The set a person belongs to: their folder's parent (``"att/s1"`` is in ``"att"``)."""
    return person.rsplit("/", 1)[0] if "/" in person else ""


def comparison_scores(
    descriptors: dict[str, list[FloatArray]],
    block: int = 2048,
    impostors: ImpostorScope = "all",
) -> ScoreSets:
    """Every genuine and impostor distance among the given descriptors, each pair once.

    Distances are computed in row blocks so large sets do not need an n-by-n matrix.

    Args:
        descriptors: each person's descriptors.
        block: rows per block.
        impostors: ``"all"`` compares every two people; ``"same_set"`` only people of the
            same set (see :func:`set_of`), so pooled sets from different cameras or
            archives do not inflate the impostor count with easy cross-set comparisons.
    """
    vectors = [v for person_vectors in descriptors.values() for v in person_vectors]
    if not vectors:
        return ScoreSets(np.empty(0), np.empty(0))
    matrix = as_descriptor_matrix(vectors)
    counts = [len(v) for v in descriptors.values()]
    labels = np.repeat(np.arange(len(descriptors)), counts)
    set_names = sorted({set_of(person) for person in descriptors})
    set_labels = np.repeat([set_names.index(set_of(p)) for p in descriptors], counts)
    genuine_parts: list[Scores] = []
    impostor_parts: list[Scores] = []
    for start in range(0, len(matrix), block):
        rows = slice(start, min(start + block, len(matrix)))
        distances = pairwise_distances(matrix[rows], matrix)
        row_index = np.arange(rows.start, rows.stop)[:, None]
        upper = np.arange(len(matrix))[None, :] > row_index
        same = labels[rows][:, None] == labels[None, :]
        comparable = upper
        if impostors == "same_set":
            comparable = upper & (set_labels[rows][:, None] == set_labels[None, :])
        genuine_parts.append(distances[upper & same])
        impostor_parts.append(distances[comparable & ~same])
    return ScoreSets(np.concatenate(genuine_parts), np.concatenate(impostor_parts))


def impostor_curve(
    descriptors: dict[str, list[FloatArray]],
    *,
    templates: int = 3,
    impostors: ImpostorScope = "all",
    source: str = "",
) -> ImpostorCurve | None:
    """The per-person stranger curve of a folder-per-person set (caps 1:N thresholds).

    Each person in turn is enrolled from their first ``templates`` descriptors; every
    descriptor of every other person (of the same set only, for ``"same_set"``) is a
    stranger compared with the nearest of those templates, and counted at each distance
    of :data:`~facegate.domain.impostors.CURVE_GRID`.

    Returns:
        The curve, ``None`` when there are not two people to compare.
    """
    names = [name for name, rows in descriptors.items() if rows]
    if len(names) < 2:
        return None
    matrix = as_descriptor_matrix([v for name in names for v in descriptors[name]])
    owners = np.repeat(np.arange(len(names)), [len(descriptors[n]) for n in names])
    sets = np.repeat([set_of(n) for n in names], [len(descriptors[n]) for n in names])
    grid = np.asarray(CURVE_GRID)
    counts, comparisons = np.zeros(len(grid), dtype=np.int64), 0
    for index, name in enumerate(names):
        enrolled = as_descriptor_matrix(descriptors[name][:templates])
        strangers = owners != index
        if impostors == "same_set":
            strangers &= sets == set_of(name)
        nearest = np.sort(pairwise_distances(matrix[strangers], enrolled).min(axis=1))
        counts += np.searchsorted(nearest, grid, side="right")
        comparisons += int(nearest.size)
    if comparisons == 0:
        return None
    return ImpostorCurve(
        tuple(float(g) for g in grid),
        tuple(int(c) for c in counts),
        comparisons,
        templates,
        source,
    )


def open_set_searches(
    people: dict[str, list[Path]], acquisition: Acquisition, seed: int
) -> OpenSetResult:
    """Enrol a seeded half of the people (one random image each) and search with the rest.

    People with at least two images are candidates for enrolment; half of them (rounded
    up) are drawn. An enrolment fails when its image yielded no descriptor. Mated
    searches are the enrolled people's other acquired images; non-mated searches are all
    acquired images of people not enrolled.
    """
    rng = np.random.default_rng(seed)
    names = sorted(people)
    candidates = [n for n in names if len(people[n]) >= 2]
    drawn = set(rng.permutation(candidates)[: (len(candidates) + 1) // 2].tolist())
    gallery = Gallery()
    failed_enrolments = 0
    probes: list[tuple[Path, str | None]] = []
    for name in names:
        paths = people[name]
        if name in drawn:
            enrol_path = paths[int(rng.integers(len(paths)))]
            descriptor = acquisition.descriptors.get(enrol_path)
            if descriptor is None:
                failed_enrolments += 1
                continue
            gallery.add(name, descriptor)
            probes += [(p, name) for p in paths if p != enrol_path]
        else:
            probes += [(p, None) for p in paths]
    mated: list[metrics.SearchOutcome] = []
    non_mated: list[metrics.SearchOutcome] = []
    for path, mate in probes:
        descriptor = acquisition.descriptors.get(path)
        if descriptor is None or not len(gallery):
            continue
        distances = gallery.person_distances(descriptor)
        nearest = min(distances, key=lambda person: distances[person])
        outcome = metrics.SearchOutcome(distances[nearest], nearest == mate)
        (mated if mate is not None else non_mated).append(outcome)
    return OpenSetResult(len(gallery.person_ids()), failed_enrolments, mated, non_mated)
