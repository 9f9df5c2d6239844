"""Unit tests of :mod:`facegate.services.acquisition` and :mod:`facegate.services.evaluation`.

The face engine is replaced by hand-written fakes of the ports, so no model is loaded and
the image files are empty: the fakes never read them.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from facegate.domain.errors import DataSetError, ModelUnavailableError, NoFaceError
from facegate.domain.matching import DESCRIPTOR_SIZE, FloatArray
from facegate.ports import PhotoDescriber, Progress
from facegate.services.acquisition import Acquisition, acquire, find_identities
from facegate.services.evaluation import (
    FMR_TARGETS,
    FPIR_TARGETS,
    comparison_scores,
    evaluate_identities,
    evaluate_pairs,
    open_set_searches,
)
from facegate.services.pairs import PairSpec

THRESHOLD = 0.6


def _stable_seed(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class FakeDescriber:
    """A :class:`PhotoDescriber` whose descriptors depend on the photo's folder (person).

    Each person (the image's parent folder) has a fixed random unit direction; each image
    adds a little seeded noise, so genuine distances are about 0.1 and impostor distances
    about 1.4. Paths in ``failing`` raise :class:`NoFaceError`.
    """

    def __init__(self, failing: Iterable[Path] = (), noise: float = 0.005) -> None:
        self.failing = set(failing)
        self.noise = noise
        self.calls: list[Path] = []

    @property
    def model_id(self) -> str:
        return "fake-model-v1"

    def describe(self, path: Path) -> FloatArray:
        self.calls.append(path)
        if path in self.failing:
            raise NoFaceError(f"{path}: no face found")
        person = np.random.default_rng(_stable_seed(path.parent.as_posix()))
        direction = person.standard_normal(DESCRIPTOR_SIZE)
        direction /= np.linalg.norm(direction)
        image = np.random.default_rng(_stable_seed(path.as_posix()))
        noisy = direction + self.noise * image.standard_normal(DESCRIPTOR_SIZE)
        return noisy.astype(np.float32)


class TableDescriber:
    """A :class:`PhotoDescriber` that looks descriptors up in a table; absent paths fail."""

    def __init__(self, table: dict[Path, FloatArray]) -> None:
        self.table = table
        self.calls: list[Path] = []

    @property
    def model_id(self) -> str:
        return "table-model"

    def describe(self, path: Path) -> FloatArray:
        self.calls.append(path)
        if path not in self.table:
            raise NoFaceError(f"{path}: no face found")
        return self.table[path]


class BrokenDescriber:
    """A :class:`PhotoDescriber` whose model cannot be loaded."""

    @property
    def model_id(self) -> str:
        return "broken"

    def describe(self, path: Path) -> FloatArray:
        raise ModelUnavailableError("the model file is missing")


class RecordingProgress:
    """A :class:`Progress` that remembers what it was told."""

    def __init__(self) -> None:
        self.starts: list[tuple[int, str]] = []
        self.advances = 0

    def start(self, total: int, description: str) -> None:
        self.starts.append((total, description))

    def advance(self) -> None:
        self.advances += 1


def _as_describer(describer: PhotoDescriber) -> PhotoDescriber:
    return describer


def _as_progress(progress: Progress) -> Progress:
    return progress


def _vector(*values: float) -> FloatArray:
    vector = np.zeros(DESCRIPTOR_SIZE, dtype=np.float32)
    vector[: len(values)] = values
    return vector


def _make_set(root: Path, counts: dict[str, int]) -> dict[str, list[Path]]:
    """Empty ``*.jpg`` files in a folder per person; returns the paths by person."""
    people: dict[str, list[Path]] = {}
    for person, count in counts.items():
        folder = root / person
        folder.mkdir(parents=True, exist_ok=True)
        people[person] = []
        for number in range(1, count + 1):
            path = folder / f"{number:04d}.jpg"
            path.touch()
            people[person].append(path)
    return people


SMALL = {"p0": 3, "p1": 3, "p2": 3, "p3": 3, "p4": 1}


@pytest.fixture
def small_set(tmp_path: Path) -> tuple[Path, dict[str, list[Path]]]:
    """Four people with three images each, one with a single image, and a stray file."""
    root = tmp_path / "faces"
    people = _make_set(root, SMALL)
    (root / "README.txt").write_text("not an image", encoding="utf-8")
    (root / "p0" / "notes.md").write_text("not an image either", encoding="utf-8")
    return root, people


def _pairs_count(n: int) -> int:
    return n * (n - 1) // 2


# --- ports ----------------------------------------------------------------------------


def test_fakes_implement_the_ports() -> None:
    for describer in (FakeDescriber(), TableDescriber({}), BrokenDescriber()):
        assert isinstance(_as_describer(describer).model_id, str)
    progress = _as_progress(RecordingProgress())
    progress.start(1, "x")
    progress.advance()


def test_fake_descriptors_separate_people(tmp_path: Path) -> None:
    describer = FakeDescriber()
    a1, a2, b1 = tmp_path / "a" / "1.jpg", tmp_path / "a" / "2.jpg", tmp_path / "b" / "1.jpg"
    genuine = float(np.linalg.norm(describer.describe(a1) - describer.describe(a2)))
    impostor = float(np.linalg.norm(describer.describe(a1) - describer.describe(b1)))
    assert genuine < 0.2 < 1.0 < impostor
    np.testing.assert_array_equal(describer.describe(a1), describer.describe(a1))


# --- find_identities --------------------------------------------------------------------


def test_find_identities_names_people_by_folder(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    root, people = small_set

    found = find_identities(root)

    assert found == people
    assert all(p.suffix == ".jpg" for paths in found.values() for p in paths)


def test_find_identities_accepts_any_image_suffix_case(tmp_path: Path) -> None:
    for name in ("a.JPG", "b.jpeg", "c.png", "d.PGM", "e.tiff", "f.txt", "g.json"):
        (tmp_path / "s1" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "s1" / name).touch()

    found = find_identities(tmp_path)

    assert [p.name for p in found["s1"]] == ["a.JPG", "b.jpeg", "c.png", "d.PGM", "e.tiff"]


def test_find_identities_nested_sets_use_relative_paths(tmp_path: Path) -> None:
    _make_set(tmp_path, {"setA/p1": 2, "setA/p2": 1, "setB/p1": 2})

    assert sorted(find_identities(tmp_path)) == ["setA/p1", "setA/p2", "setB/p1"]
    assert sorted(find_identities(tmp_path / "setA")) == ["p1", "p2"]


def test_find_identities_ignores_folders_named_like_images(tmp_path: Path) -> None:
    _make_set(tmp_path, {"p1": 1})
    (tmp_path / "p1" / "folder.jpg").mkdir()

    assert find_identities(tmp_path) == {"p1": [tmp_path / "p1" / "0001.jpg"]}


def test_find_identities_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DataSetError, match="no images"):
        find_identities(tmp_path)


def test_find_identities_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "p1").mkdir()
    (tmp_path / "p1" / "notes.txt").write_text("x", encoding="utf-8")

    with pytest.raises(DataSetError, match="no images"):
        find_identities(tmp_path)


def test_find_identities_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataSetError, match="not a folder"):
        find_identities(tmp_path / "absent")


def test_find_identities_file_instead_of_folder(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.touch()

    with pytest.raises(DataSetError, match="not a folder"):
        find_identities(path)


# --- acquire ------------------------------------------------------------------------------


def test_acquire_records_failures_without_raising(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    _, people = small_set
    paths = [p for ps in people.values() for p in ps]
    failing = [people["p1"][0], people["p4"][0]]
    describer = FakeDescriber(failing)

    result = acquire(paths, describer)

    assert set(result.failures) == set(failing)
    assert set(result.descriptors) == set(paths) - set(failing)
    assert all("no face" in reason for reason in result.failures.values())
    assert all(d.shape == (DESCRIPTOR_SIZE,) for d in result.descriptors.values())
    assert result.failure_list() == [
        {"path": str(p), "reason": f"{p}: no face found"} for p in sorted(failing)
    ]


def test_acquire_describes_each_distinct_path_once(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    _, people = small_set
    paths = people["p0"] + people["p1"] + people["p0"] + [people["p1"][0]] * 3
    failing = people["p1"][0]
    describer = FakeDescriber([failing])
    progress = RecordingProgress()

    result = acquire(iter(paths), describer, progress)

    assert Counter(describer.calls) == Counter(set(paths))
    assert progress.starts == [(6, "describing faces")]
    assert progress.advances == 6
    assert list(result.failures) == [failing]
    assert len(result.descriptors) == 5


def test_acquire_of_nothing() -> None:
    progress = RecordingProgress()

    result = acquire([], FakeDescriber(), progress)

    assert result.descriptors == {}
    assert result.failures == {}
    assert result.failure_list() == []
    assert progress.starts == [(0, "describing faces")]


def test_acquire_does_not_swallow_service_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError):
        acquire([tmp_path / "a.jpg"], BrokenDescriber())


def test_parallel_workers_give_the_same_acquisition(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    _, people = small_set
    paths = [p for ps in people.values() for p in ps]
    failing = [people["p2"][1]]
    progress = RecordingProgress()

    alone = acquire(paths, FakeDescriber(failing))
    together = acquire(paths, FakeDescriber(failing), progress, workers=2)

    assert together.failures == alone.failures
    assert together.descriptors.keys() == alone.descriptors.keys()
    for path, descriptor in alone.descriptors.items():
        np.testing.assert_array_equal(together.descriptors[path], descriptor)
    assert progress.advances == len(set(paths))


def test_parallel_workers_pass_service_errors_on(tmp_path: Path) -> None:
    paths = [tmp_path / f"{n}.jpg" for n in range(8)]
    with pytest.raises(ModelUnavailableError):
        acquire(paths, BrokenDescriber(), workers=2)


# --- comparison_scores --------------------------------------------------------------------


def _descriptors_by_person(counts: dict[str, int], seed: int = 5) -> dict[str, list[FloatArray]]:
    rng = np.random.default_rng(seed)
    return {
        person: [rng.standard_normal(DESCRIPTOR_SIZE).astype(np.float32) for _ in range(n)]
        for person, n in counts.items()
    }


def _brute_force(descriptors: dict[str, list[FloatArray]]) -> tuple[list[float], list[float]]:
    labelled = [(person, v) for person, vs in descriptors.items() for v in vs]
    genuine, impostor = [], []
    for (pa, a), (pb, b) in itertools.combinations(labelled, 2):
        distance = float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))
        (genuine if pa == pb else impostor).append(distance)
    return genuine, impostor


@pytest.mark.parametrize("block", [1, 2, 3, 7, 2048])
def test_comparison_scores_match_brute_force(block: int) -> None:
    counts = {"a": 3, "b": 1, "c": 4, "d": 2, "e": 0}
    descriptors = _descriptors_by_person(counts)
    n_images = sum(counts.values())
    n_genuine = sum(_pairs_count(n) for n in counts.values())

    scores = comparison_scores(descriptors, block=block)

    assert scores.genuine.size == n_genuine == 3 + 6 + 1
    assert scores.impostor.size == _pairs_count(n_images) - n_genuine
    genuine, impostor = _brute_force(descriptors)
    np.testing.assert_allclose(np.sort(scores.genuine), np.sort(genuine), atol=1e-9)
    np.testing.assert_allclose(np.sort(scores.impostor), np.sort(impostor), atol=1e-9)


def test_comparison_scores_of_nobody() -> None:
    for descriptors in ({}, {"a": []}, {"a": [], "b": []}):
        scores = comparison_scores(descriptors, block=2)
        assert scores.genuine.size == 0
        assert scores.impostor.size == 0


def test_comparison_scores_one_person() -> None:
    scores = comparison_scores(_descriptors_by_person({"solo": 4}), block=2)

    assert scores.genuine.size == 6
    assert scores.impostor.size == 0


def test_comparison_scores_exact_distances() -> None:
    descriptors = {
        "a": [_vector(0.0), _vector(0.3)],
        "b": [_vector(1.0), _vector(1.0, 0.5)],
    }

    scores = comparison_scores(descriptors, block=2)

    np.testing.assert_allclose(np.sort(scores.genuine), [0.3, 0.5], atol=1e-6)
    expected_impostor = [1.0, 0.7, math.hypot(1.0, 0.5), math.hypot(0.7, 0.5)]
    np.testing.assert_allclose(np.sort(scores.impostor), np.sort(expected_impostor), atol=1e-6)


# --- evaluate_identities ------------------------------------------------------------------

REPORT_KEYS = {
    "genuine_comparisons",
    "impostor_comparisons",
    "fnmr_at_fmr",
    "eer",
    "fte",
    "fta",
    "fnir_at_fpir",
}


def test_identities_report_on_a_small_set(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    root, _ = small_set
    describer = FakeDescriber()

    report = evaluate_identities(root, describer, THRESHOLD, seed=3).as_dict()

    assert report.keys() >= REPORT_KEYS
    assert report["people"] == 5
    assert report["images"] == 13
    assert report["genuine_comparisons"] == 4 * 3
    assert report["impostor_comparisons"] == _pairs_count(13) - 12
    # 66 impostor comparisons cannot support any of the FMR targets (rule of 3).
    assert set(report["fnmr_at_fmr"]) == {"1e-2", "1e-3", "1e-4"} == set(FMR_TARGETS)
    assert all(value is None for value in report["fnmr_at_fmr"].values())
    assert set(report["fnir_at_fpir"]) == {"1e-2", "1e-3"} == set(FPIR_TARGETS)
    assert all(value is None for value in report["fnir_at_fpir"].values())
    assert report["eer"] == 0.0
    assert report["fmr"] == 0.0
    assert report["fnmr"] == 0.0
    assert report["fte"] == 0.0
    assert report["fta"] == 0.0
    # Two of the four people with several images are enrolled, one image each.
    assert report["enrolled_people"] == 2
    assert report["mated_searches"] == 2 * 2
    assert report["non_mated_searches"] == 2 * 3 + 1
    assert report["fnir"] == 0.0
    assert report["fpir"] == 0.0
    assert report["seed"] == 3
    assert report["threshold"] == THRESHOLD
    assert report["failed_images"] == []
    # Non-images are ignored, every image is described exactly once.
    assert len(describer.calls) == 13
    assert len(set(describer.calls)) == 13


def test_identities_rates_become_claimable_on_a_large_set(tmp_path: Path) -> None:
    _make_set(tmp_path, {f"person{i:02d}": 25 for i in range(26)})

    report = evaluate_identities(tmp_path, FakeDescriber(), THRESHOLD, seed=0).as_dict()

    genuine = 26 * _pairs_count(25)
    assert report["genuine_comparisons"] == genuine
    assert report["impostor_comparisons"] == _pairs_count(26 * 25) - genuine
    assert report["impostor_comparisons"] >= 30_000
    assert report["fnmr_at_fmr"] == {"1e-2": 0.0, "1e-3": 0.0, "1e-4": 0.0}
    # 13 people not enrolled x 25 images = 325 non-mated searches: 1e-2 needs 300.
    assert report["enrolled_people"] == 13
    assert report["non_mated_searches"] == 13 * 25
    assert report["mated_searches"] == 13 * 24
    assert report["fnir_at_fpir"] == {"1e-2": 0.0, "1e-3": None}
    assert report["eer"] == 0.0


def test_fta_is_failed_images_over_all_images(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    root, people = small_set
    failing = [people["p2"][1], people["p4"][0]]

    report = evaluate_identities(root, FakeDescriber(failing), THRESHOLD).as_dict()

    assert report["images"] == 13
    assert report["fta"] == round(2 / 13, 6)
    assert [f["path"] for f in report["failed_images"]] == sorted(str(p) for p in failing)
    # Failed images take no part in comparisons: 11 acquired, p2 has 2 left.
    assert report["genuine_comparisons"] == 3 + 3 + 1 + 3
    assert report["impostor_comparisons"] == _pairs_count(11) - 10


def test_same_seed_gives_the_same_report(tmp_path: Path) -> None:
    _make_set(tmp_path, {f"p{i}": 2 + i for i in range(10)})

    first = evaluate_identities(tmp_path, FakeDescriber(), THRESHOLD, seed=11).as_dict()
    second = evaluate_identities(tmp_path, FakeDescriber(), THRESHOLD, seed=11).as_dict()

    assert first == second


def test_different_seeds_draw_different_enrolment_splits(tmp_path: Path) -> None:
    # Everyone has a different number of images, so the number of mated searches
    # (the enrolled people's other images) tells the splits apart.
    _make_set(tmp_path, {f"p{i}": 2 + i for i in range(10)})

    splits = {
        seed: evaluate_identities(tmp_path, FakeDescriber(), THRESHOLD, seed=seed).as_dict()
        for seed in range(6)
    }

    assert all(report["enrolled_people"] == 5 for report in splits.values())
    assert len({report["mated_searches"] for report in splits.values()}) > 1


def test_failed_enrolment_image_counts_in_fte(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    root, people = small_set
    # Every image of p1 fails, so whenever p1 is drawn for enrolment, enrolment fails.
    describer = FakeDescriber(people["p1"])

    fte_seen = set()
    for seed in range(30):
        report = evaluate_identities(root, describer, THRESHOLD, seed=seed).as_dict()
        assert report["fta"] == round(3 / 13, 6)
        if report["fte"] == 0.0:
            assert report["enrolled_people"] == 2
            assert report["mated_searches"] == 4
        else:
            assert report["fte"] == 0.5  # one of the two drawn people could not enrol
            assert report["enrolled_people"] == 1
            assert report["mated_searches"] == 2
        fte_seen.add(report["fte"])

    assert fte_seen == {0.0, 0.5}


def test_open_set_with_every_enrolment_failing() -> None:
    people = {f"p{i}": [Path(f"/x/p{i}/{j}.jpg") for j in range(3)] for i in range(5)}

    result = open_set_searches(people, Acquisition(), seed=0)

    assert result.enrolled_people == 0
    assert result.failed_enrolments == 3
    assert result.mated == []
    assert result.non_mated == []


def test_identities_report_when_every_image_fails(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    root, people = small_set
    every = [p for ps in people.values() for p in ps]

    report = evaluate_identities(root, FakeDescriber(every), THRESHOLD).as_dict()

    assert report["genuine_comparisons"] == 0
    assert report["impostor_comparisons"] == 0
    assert report["fta"] == 1.0
    assert report["fte"] == 1.0
    assert report["eer"] is None
    assert all(v is None for v in report["fnmr_at_fmr"].values())
    assert all(v is None for v in report["fnir_at_fpir"].values())
    assert len(report["failed_images"]) == 13


def test_identities_progress_is_told_of_each_image(
    small_set: tuple[Path, dict[str, list[Path]]],
) -> None:
    root, _ = small_set
    progress = RecordingProgress()

    evaluate_identities(root, FakeDescriber(), THRESHOLD, progress=progress)

    assert progress.starts == [(13, "describing faces")]
    assert progress.advances == 13


def test_identities_on_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataSetError):
        evaluate_identities(tmp_path / "absent", FakeDescriber(), THRESHOLD)


# --- evaluate_pairs -------------------------------------------------------------------------


def test_pairs_report_is_hand_computable(tmp_path: Path) -> None:
    a, b, c, d, e, f = (tmp_path / f"{name}.jpg" for name in "abcdef")
    bad = tmp_path / "bad.jpg"
    describer = TableDescriber(
        {
            a: _vector(0.0),
            b: _vector(0.3),  # |a-b| = 0.3
            c: _vector(0.7),  # |a-c| = 0.7
            d: _vector(0.0, 0.5),  # |a-d| = 0.5
            e: _vector(1.0),  # |a-e| = 1.0
            f: _vector(0.0, 2.0),
        }
    )
    pairs = [
        PairSpec(a, b, True),  # 0.3 <= 0.6: correct match
        PairSpec(a, c, True),  # 0.7 > 0.6: false non-match
        PairSpec(a, d, False),  # 0.5 <= 0.6: false match
        PairSpec(a, e, False),  # 1.0 > 0.6: correct non-match
        PairSpec(a, bad, True),  # no face: an error
        PairSpec(bad, f, False),  # no face: an error
    ]
    progress = RecordingProgress()

    result = evaluate_pairs(pairs, describer, THRESHOLD, progress)
    report = result.as_dict()

    assert report["pairs"] == 6
    assert report["genuine_pairs"] == 2
    assert report["impostor_pairs"] == 2
    assert report["failures_to_acquire"] == 2
    assert report["accuracy"] == round(2 / 6, 6)
    assert report["fmr"] == 0.5
    assert report["fnmr"] == 0.5
    assert report["threshold"] == THRESHOLD
    assert report["failed_images"] == [{"path": str(bad), "reason": f"{bad}: no face found"}]
    # Failed pairs are errors at every threshold: at best 3 of the 6 pairs are right,
    # first in [0.3, 0.5), whose midpoint is reported.
    assert report["best_threshold_accuracy"] == 0.5
    assert report["best_threshold"] == pytest.approx(0.4, abs=1e-6)
    assert report["eer"] is not None
    np.testing.assert_allclose(np.sort(result.scores.genuine), [0.3, 0.7], atol=1e-6)
    np.testing.assert_allclose(np.sort(result.scores.impostor), [0.5, 1.0], atol=1e-6)
    # Each of the 7 distinct images is described once although a and bad recur.
    assert Counter(describer.calls) == Counter({a, b, c, d, e, f, bad})
    assert progress.starts == [(7, "describing faces")]
    assert progress.advances == 7


def test_pairs_all_failing(tmp_path: Path) -> None:
    pairs = [PairSpec(tmp_path / "x.jpg", tmp_path / "y.jpg", True)] * 3

    report = evaluate_pairs(pairs, TableDescriber({}), THRESHOLD).as_dict()

    assert report["failures_to_acquire"] == 3
    assert report["accuracy"] == 0.0
    assert report["genuine_pairs"] == 0
    assert report["eer"] is None
    assert report["best_threshold"] is None
    assert len(report["failed_images"]) == 2


def test_pairs_with_the_person_dependent_fake(tmp_path: Path) -> None:
    people = _make_set(tmp_path, {"ann": 3, "bob": 2, "cid": 2})
    pairs = [
        PairSpec(people["ann"][0], people["ann"][1], True),
        PairSpec(people["ann"][1], people["ann"][2], True),
        PairSpec(people["bob"][0], people["bob"][1], True),
        PairSpec(people["ann"][0], people["bob"][0], False),
        PairSpec(people["cid"][0], people["bob"][1], False),
        PairSpec(people["cid"][1], people["ann"][2], False),
    ]
    describer = FakeDescriber([people["cid"][1]])

    report = evaluate_pairs(pairs, describer, THRESHOLD).as_dict()

    assert report["failures_to_acquire"] == 1
    assert report["accuracy"] == round(5 / 6, 6)
    assert report["fmr"] == 0.0
    assert report["fnmr"] == 0.0
    assert report["eer"] == 0.0
