"""1:N search: the vectorised screen must decide exactly as brute force does."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.domain.matching import Gallery, Identification, euclidean_distances
from facegate.domain.reasons import Reason


def brute_force(
    rows: list[tuple[str, np.ndarray]], probe: np.ndarray, threshold: float, min_margin: float
) -> Identification:
    """Every template compared exactly, people ranked in Python (the reference)."""
    best: dict[str, float] = {}
    for person, row in rows:
        distance = float(euclidean_distances(probe, row.reshape(1, -1))[0])
        best[person] = min(best.get(person, np.inf), distance)
    ranked = sorted(sorted(best.items()), key=lambda item: item[1])
    nearest, distance = ranked[0]
    second = ranked[1][1] if len(ranked) > 1 else np.inf
    margin = second - distance
    if not distance <= threshold:
        reason = Reason.UNKNOWN_FACE
    elif not margin >= min_margin:
        reason = Reason.BELOW_MARGIN
    else:
        reason = Reason.GRANTED
    person = nearest if reason is Reason.GRANTED else None
    return Identification(person, nearest, distance, second, margin, reason)


def random_gallery(rng: np.random.Generator, people: int, per_person: int) -> Gallery:
    gallery = Gallery()
    centres = rng.standard_normal((people, 128)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    # Added in shuffled order, so rows of one person are not adjacent as added.
    for slot in rng.permutation(people * per_person):
        person = int(slot) % people
        noise = 0.03 * rng.standard_normal(128).astype(np.float32)
        gallery.add(f"p{person:04d}", (centres[person] + noise)[None, :])
    return gallery


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_identify_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gallery = random_gallery(rng, people=300, per_person=3)
    rows = gallery.rows()
    for trial in range(60):
        anchor = rows[int(rng.integers(len(rows)))][1]
        probe = (anchor + rng.normal(0, 0.02 * (trial % 5), 128)).astype(np.float32)
        for threshold, margin in ((0.57, 0.06), (0.2, 0.0), (1.5, 0.3)):
            assert gallery.identify(probe, threshold, margin) == brute_force(
                rows, probe, threshold, margin
            )


def test_exact_ties_and_duplicates_resolve_as_brute_force() -> None:
    row = np.linspace(-0.1, 0.1, 128, dtype=np.float32)
    gallery = Gallery()
    gallery.add("zed", [row, row + 0.5])
    gallery.add("amy", [row + 0.5, row])
    gallery.add("bob", [row + 0.01])
    result = gallery.identify(row, 0.57, 0.0)
    assert result == brute_force(gallery.rows(), row, 0.57, 0.0)
    assert result.nearest_person_id == "amy"
    assert result.margin == 0.0


def test_one_and_two_people_and_empty() -> None:
    rng = np.random.default_rng(5)
    gallery = Gallery()
    empty = gallery.identify(np.zeros(128, np.float32), 0.57, 0.06)
    assert empty.reason is Reason.UNKNOWN_FACE
    assert empty.nearest_person_id is None
    one = rng.standard_normal((2, 128)).astype(np.float32)
    gallery.add("solo", one)
    assert gallery.identify(one[1], 0.57, 0.06) == brute_force(gallery.rows(), one[1], 0.57, 0.06)
    gallery.add("duo", one[:1] + 0.01)
    assert gallery.identify(one[0], 0.57, 0.06) == brute_force(gallery.rows(), one[0], 0.57, 0.06)


def test_index_round_trip_keeps_the_order_added() -> None:
    gallery = random_gallery(np.random.default_rng(3), people=7, per_person=2)
    names, labels, matrix = gallery.as_index()
    assert [names[i] for i in labels] == [p for p, _ in gallery.rows()]
    assert np.array_equal(matrix, np.stack([r for _, r in gallery.rows()]))
    copy = Gallery.from_index(names, labels, matrix)
    assert copy.rows()[3][0] == gallery.rows()[3][0]
    probe = gallery.rows()[5][1]
    assert copy.person_distances(probe) == gallery.person_distances(probe)
    assert gallery.person_distance(probe, gallery.rows()[5][0]) == 0.0


def test_templates_near_the_float32_limit_are_compared_exactly() -> None:
    big = np.full(128, 1.7e18, np.float32)  # squared norm over float32's limit
    gallery = Gallery()
    gallery.add("far", [big])
    gallery.add("near", [big * np.float32(0.98)])
    gallery.add("zero", [np.zeros(128, np.float32)])
    probe = big * np.float32(0.985)
    expected = brute_force(gallery.rows(), probe, 0.57, 0.0)
    assert np.isfinite(expected.margin)
    assert gallery.identify(probe, 0.57, 0.0) == expected


def uneven_gallery(rng: np.random.Generator, people: int) -> Gallery:
    """``people`` random people of 1 to 6 templates each, some templates shared exactly."""
    names = [f"u{i:03d}" for i in range(people)]
    counts = rng.integers(1, 7, size=people)
    labels = np.repeat(np.arange(people), counts)
    matrix = rng.standard_normal((len(labels), 128)).astype(np.float32) * np.float32(0.3)
    if len(labels) > 4:  # exact ties between people: one template copied under others
        matrix[-1] = matrix[0]
        matrix[len(labels) // 2] = matrix[0]
    return Gallery.from_index(names, labels[rng.permutation(len(labels))], matrix)


@pytest.mark.parametrize("people", [1, 2, 3, 4, 17, 250])
def test_uneven_galleries_decide_as_brute_force(people: int) -> None:
    rng = np.random.default_rng(people)
    gallery = uneven_gallery(rng, people)
    rows = gallery.rows()
    for trial in range(40):
        anchor = rows[int(rng.integers(len(rows)))][1]
        probe = anchor if trial % 4 == 0 else anchor + rng.normal(0, 0.05, 128)
        probe = probe.astype(np.float32)
        for threshold, margin in ((0.57, 0.06), (2.0, 0.0), (6.0, 0.5)):
            assert gallery.identify(probe, threshold, margin) == brute_force(
                rows, probe, threshold, margin
            )


def test_the_search_reports_the_two_nearest_people_distances() -> None:
    """Identify's two distances are the per-person distances of the plain computation."""
    rng = np.random.default_rng(11)
    gallery = uneven_gallery(rng, 120)
    for _ in range(30):
        probe = rng.standard_normal(128).astype(np.float32) * np.float32(0.3)
        plain = sorted(gallery.person_distances(probe).values())
        found = gallery.identify(probe, 0.57, 0.06)
        assert found.distance == pytest.approx(plain[0], rel=1e-5)
        assert found.second_distance == pytest.approx(plain[1], rel=1e-5)


def test_near_ties_within_float32_rounding_decide_as_brute_force() -> None:
    """People a rounding error apart are all compared exactly: the screen's float32
    order of them is noise (with no screening slack this fails for most probes)."""
    rng = np.random.default_rng(12)
    for _ in range(4):
        base = rng.standard_normal(128).astype(np.float32)
        gallery = Gallery()
        for i in range(8):
            jitter = rng.standard_normal(128).astype(np.float32) * np.float32(1e-6)
            gallery.add(f"twin{i}", [base + jitter])
        for _ in range(10):
            probe = base + rng.standard_normal(128).astype(np.float32) * np.float32(0.3)
            assert gallery.identify(probe, 5.0, 0.0) == brute_force(gallery.rows(), probe, 5.0, 0.0)


def test_a_single_template_is_found() -> None:
    row = np.random.default_rng(13).standard_normal(128).astype(np.float32)
    gallery = Gallery()
    gallery.add("only", [row])
    found = gallery.identify(row, 0.57, 0.06)
    assert (found.person_id, found.distance, found.second_distance) == ("only", 0.0, np.inf)
    assert found == brute_force(gallery.rows(), row, 0.57, 0.06)


@pytest.mark.parametrize("people", [1, 2, 17])
def test_the_nearest_others_are_the_plain_per_person_distances(people: int) -> None:
    """The cohort of a 1:1 check: every other person's closest template, nearest first."""
    rng = np.random.default_rng(200 + people)
    gallery = uneven_gallery(rng, people)
    rows = gallery.rows()
    for trial in range(10):
        who, anchor = rows[int(rng.integers(len(rows)))]
        probe = (anchor + rng.normal(0, 0.05 * (trial % 3), 128)).astype(np.float32)
        plain = gallery.person_distances(probe)
        for claimed in (who, "not-enrolled"):
            others = sorted(d for p, d in plain.items() if p != claimed)
            for count in (1, 5, 40):
                got = gallery.nearest_other_distances(probe, claimed, count)
                assert got.tolist() == pytest.approx(others[:count], rel=1e-6)
    assert len(Gallery().nearest_other_distances(np.zeros(128, np.float32), "a", 3)) == 0
