"""Descriptor comparison, 1:1 verification and 1:N identification against a gallery."""

from __future__ import annotations

import math

import numpy as np
import pytest

from facegate.domain.matching import (
    DESCRIPTOR_SIZE,
    Gallery,
    as_descriptor_matrix,
    euclidean_distances,
    pairwise_distances,
    verify,
)
from facegate.domain.reasons import Reason

ORIGIN = np.zeros(DESCRIPTOR_SIZE, dtype=np.float32)
# Any of as_descriptor_matrix's or the one-descriptor check's messages.
BAD_DESCRIPTOR = r"shape|NaN|one descriptor"


def at(distance: float, axis: int = 0) -> np.ndarray:
    """A descriptor ``distance`` away from the origin along one axis."""
    descriptor = np.zeros(DESCRIPTOR_SIZE, dtype=np.float32)
    descriptor[axis] = distance
    return descriptor


# ------------------------------------------------------------------ as_descriptor_matrix


def test_one_descriptor_becomes_a_one_row_matrix() -> None:
    matrix = as_descriptor_matrix(at(0.5))
    assert matrix.shape == (1, DESCRIPTOR_SIZE)
    assert matrix.dtype == np.float32
    assert matrix[0, 0] == np.float32(0.5)


def test_a_list_of_descriptors_is_stacked_as_float32() -> None:
    matrix = as_descriptor_matrix([at(1.0, 0), at(2.0, 1), np.ones(DESCRIPTOR_SIZE)])
    assert matrix.shape == (3, DESCRIPTOR_SIZE)
    assert matrix.dtype == np.float32
    assert matrix[1, 1] == 2.0


def test_no_descriptors_make_an_empty_matrix() -> None:
    assert as_descriptor_matrix([]).shape == (0, DESCRIPTOR_SIZE)
    assert as_descriptor_matrix(np.empty((0, DESCRIPTOR_SIZE))).shape == (0, DESCRIPTOR_SIZE)


@pytest.mark.parametrize(
    "shape",
    [(127,), (129,), (1,), (2, 127), (2, 129), (0, 5), (1, 0), (2, 2, DESCRIPTOR_SIZE), ()],
)
def test_wrong_shapes_are_rejected(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="shape"):
        as_descriptor_matrix(np.zeros(shape, dtype=np.float32))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e39])
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_non_finite_values_are_rejected(bad: float) -> None:
    # 1e39 does not fit a float32 and would become infinite.
    descriptor = np.zeros(DESCRIPTOR_SIZE, dtype=np.float64)
    descriptor[17] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        as_descriptor_matrix(descriptor)
    with pytest.raises(ValueError, match="NaN or infinite"):
        as_descriptor_matrix([at(0.1), descriptor])


# ------------------------------------------------------------------------------ distances


def test_euclidean_distances_to_each_row() -> None:
    three_four = at(3.0, 0)
    three_four[1] = 4.0
    gallery = as_descriptor_matrix([ORIGIN, three_four, at(-2.0, 5)])
    distances = euclidean_distances(ORIGIN, gallery)
    assert distances.dtype == np.float32
    np.testing.assert_allclose(distances, [0.0, 5.0, 2.0], rtol=1e-6)
    # The probe need not be the origin: distance is translation invariant.
    np.testing.assert_allclose(
        euclidean_distances(three_four, gallery), [5.0, 0.0, math.sqrt(25 + 4)], rtol=1e-6
    )


def test_pairwise_distances_agree_with_direct_computation() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(0.0, 0.1, (4, DESCRIPTOR_SIZE)).astype(np.float32)
    b = rng.normal(0.0, 0.1, (3, DESCRIPTOR_SIZE)).astype(np.float32)
    distances = pairwise_distances(a, b)
    assert distances.shape == (4, 3)
    for i in range(4):
        for j in range(3):
            direct = np.linalg.norm(a[i].astype(np.float64) - b[j].astype(np.float64))
            assert distances[i, j] == pytest.approx(direct, rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(distances[i], euclidean_distances(a[i], b), rtol=1e-5, atol=1e-6)


def test_pairwise_distance_of_identical_rows_is_zero_not_nan() -> None:
    # Cancellation in |a|^2 + |b|^2 - 2ab can go slightly negative; it must be clipped.
    rng = np.random.default_rng(9)
    a = rng.normal(0.0, 10.0, (5, DESCRIPTOR_SIZE)).astype(np.float32)
    distances = pairwise_distances(a, a)
    assert not np.any(np.isnan(distances))
    np.testing.assert_allclose(np.diag(distances), 0.0, atol=1e-4)


# --------------------------------------------------------------------------------- verify


def test_verify_reports_the_distance_and_decision() -> None:
    three_four = at(0.3, 0)
    three_four[1] = 0.4
    result = verify(ORIGIN, three_four, threshold=0.6)
    assert result.distance == pytest.approx(0.5, rel=1e-6)
    assert result.threshold == 0.6
    assert result.same
    assert not verify(ORIGIN, three_four, threshold=0.4).same


def test_verify_matches_at_exactly_the_threshold() -> None:
    a, b = at(0.2, 3), at(0.35, 9)
    distance = verify(a, b, threshold=1.0).distance
    assert verify(a, b, threshold=distance).same
    assert not verify(a, b, threshold=float(np.nextafter(distance, 0.0))).same


def test_verify_is_symmetric() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, DESCRIPTOR_SIZE)).astype(np.float32)
    assert verify(a, b, 0.6).distance == verify(b, a, 0.6).distance


@pytest.mark.parametrize(
    "other",
    [
        np.zeros(127, dtype=np.float32),
        np.zeros(1, dtype=np.float32),  # would broadcast against a 128-vector
        np.zeros((2, DESCRIPTOR_SIZE), dtype=np.float32),
        np.full(DESCRIPTOR_SIZE, np.nan, dtype=np.float32),
    ],
    ids=["short", "scalar-like", "two-rows", "nan"],
)
def test_verify_rejects_anything_but_one_finite_descriptor(other: np.ndarray) -> None:
    with pytest.raises(ValueError, match=BAD_DESCRIPTOR):
        verify(ORIGIN, other, 0.6)
    with pytest.raises(ValueError, match=BAD_DESCRIPTOR):
        verify(other, ORIGIN, 0.6)


# -------------------------------------------------------------------------------- gallery


def test_empty_gallery_says_unknown() -> None:
    gallery = Gallery()
    assert len(gallery) == 0
    assert gallery.person_ids() == []
    assert gallery.person_distances(ORIGIN) == {}
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.0)
    assert result.person_id is None
    assert result.nearest_person_id is None
    assert not result.matched
    assert result.reason is Reason.UNKNOWN_FACE
    assert result.distance == math.inf
    assert result.second_distance == math.inf


def test_gallery_counts_templates_and_people() -> None:
    gallery = Gallery()
    gallery.add("bob", at(0.3, 2))
    gallery.add("alice", [at(0.1, 0), at(0.2, 1)])
    gallery.add("alice", at(0.4, 3))
    assert len(gallery) == 4
    assert gallery.person_ids() == ["alice", "bob"]


def test_person_distance_is_their_closest_template() -> None:
    gallery = Gallery()
    gallery.add("alice", [at(0.9, 0), at(0.25, 1), at(0.7, 2)])
    gallery.add("bob", at(0.5, 3))
    distances = gallery.person_distances(ORIGIN)
    assert distances == {
        "alice": pytest.approx(0.25, rel=1e-6),
        "bob": pytest.approx(0.5, rel=1e-6),
    }


def test_identify_picks_the_person_of_the_closer_template() -> None:
    gallery = Gallery()
    # Alice's far template (0.9) is farther than Bob (0.5), her near one (0.2) is closer.
    gallery.add("alice", [at(0.9, 0), at(0.2, 1)])
    gallery.add("bob", at(0.5, 2))
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.0)
    assert result.person_id == "alice"
    assert result.nearest_person_id == "alice"
    assert result.matched
    assert result.reason is Reason.GRANTED
    assert result.distance == pytest.approx(0.2, rel=1e-6)
    assert result.second_distance == pytest.approx(0.5, rel=1e-6)


def test_margin_is_against_the_second_person_not_the_second_template() -> None:
    gallery = Gallery()
    # Alice has two templates 0.20 and 0.22 away; Bob is 0.50 away. The margin is
    # 0.50 - 0.20 = 0.30, not 0.22 - 0.20 = 0.02, so a 0.1 margin is met.
    gallery.add("alice", [at(0.20, 0), at(0.22, 1)])
    gallery.add("bob", at(0.50, 2))
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.1)
    assert result.reason is Reason.GRANTED
    assert result.person_id == "alice"
    assert result.second_distance == pytest.approx(0.5, rel=1e-6)
    assert result.margin == pytest.approx(0.3, rel=1e-5)


def test_lone_person_has_infinite_margin() -> None:
    gallery = Gallery()
    gallery.add("alice", [at(0.20, 0), at(0.21, 1)])
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.5)
    assert result.reason is Reason.GRANTED
    assert result.second_distance == math.inf
    assert result.margin == math.inf


def test_look_alikes_within_the_margin_are_refused() -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.30, 0))
    gallery.add("bob", at(0.32, 1))
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.05)
    assert result.reason is Reason.BELOW_MARGIN
    assert result.person_id is None
    assert not result.matched
    assert result.nearest_person_id == "alice"
    assert result.margin == pytest.approx(0.02, rel=1e-4)
    # With the margin check off the nearer one is granted.
    assert gallery.identify(ORIGIN, threshold=0.6, min_margin=0.0).person_id == "alice"


def test_exact_tie_between_people_fails_any_positive_margin() -> None:
    gallery = Gallery()
    gallery.add("bob", at(0.3, 0))
    gallery.add("alice", at(0.3, 1))
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=1e-6)
    assert result.reason is Reason.BELOW_MARGIN
    assert result.margin == 0.0
    assert result.nearest_person_id in {"alice", "bob"}


def test_too_far_is_unknown_even_with_a_large_margin() -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.7, 0))
    gallery.add("bob", at(1.5, 1))
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.05)
    assert result.reason is Reason.UNKNOWN_FACE
    assert result.person_id is None
    assert result.nearest_person_id == "alice"
    assert result.distance == pytest.approx(0.7, rel=1e-6)


def test_unknown_takes_precedence_over_below_margin() -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.70, 0))
    gallery.add("bob", at(0.71, 1))
    result = gallery.identify(ORIGIN, threshold=0.6, min_margin=0.05)
    assert result.reason is Reason.UNKNOWN_FACE


def test_identify_matches_at_exactly_the_threshold() -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.6, 0))
    distance = gallery.person_distances(ORIGIN)["alice"]
    assert gallery.identify(ORIGIN, threshold=distance, min_margin=0.0).matched
    below = float(np.nextafter(distance, 0.0))
    assert not gallery.identify(ORIGIN, threshold=below, min_margin=0.0).matched


def test_adding_after_a_search_is_seen_by_the_next_search() -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.4, 0))
    assert gallery.identify(ORIGIN, 0.6, 0.0).person_id == "alice"
    gallery.add("bob", at(0.1, 1))
    assert gallery.identify(ORIGIN, 0.6, 0.0).person_id == "bob"
    gallery.add("alice", at(0.05, 2))
    assert gallery.identify(ORIGIN, 0.6, 0.0).person_id == "alice"
    assert gallery.identify(ORIGIN, 0.6, 0.0).distance == pytest.approx(0.05, rel=1e-6)


def test_adding_no_templates_adds_nobody() -> None:
    gallery = Gallery()
    gallery.add("ghost", [])
    assert len(gallery) == 0
    assert gallery.person_ids() == []
    assert gallery.identify(ORIGIN, 0.6, 0.0).reason is Reason.UNKNOWN_FACE


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros(127, dtype=np.float32),
        np.full(DESCRIPTOR_SIZE, np.nan, dtype=np.float32),
        [at(0.1), np.zeros(129, dtype=np.float32)],
    ],
    ids=["short", "nan", "ragged"],
)
def test_bad_templates_are_rejected_and_leave_the_gallery_unchanged(bad: object) -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.3))
    with pytest.raises(ValueError, match=BAD_DESCRIPTOR):
        gallery.add("mallory", bad)  # type: ignore[arg-type]
    assert len(gallery) == 1
    assert gallery.person_ids() == ["alice"]
    assert gallery.identify(ORIGIN, 0.6, 0.0).person_id == "alice"


@pytest.mark.parametrize(
    "probe",
    [
        np.full(DESCRIPTOR_SIZE, np.nan, dtype=np.float32),
        np.where(np.arange(DESCRIPTOR_SIZE) == 3, np.inf, 0.0).astype(np.float32),
        np.zeros(127, dtype=np.float32),
        np.zeros(1, dtype=np.float32),  # would broadcast against every template
        np.zeros((2, DESCRIPTOR_SIZE), dtype=np.float32),
    ],
    ids=["nan", "inf", "short", "scalar-like", "two-probes"],
)
def test_bad_probes_are_rejected_not_granted(probe: np.ndarray) -> None:
    gallery = Gallery()
    gallery.add("alice", ORIGIN)
    gallery.add("bob", at(1.0))
    with pytest.raises(ValueError, match=BAD_DESCRIPTOR):
        gallery.identify(probe, threshold=0.6, min_margin=0.0)
    with pytest.raises(ValueError, match=BAD_DESCRIPTOR):
        Gallery().identify(probe, threshold=0.6, min_margin=0.0)


def test_nan_limits_fail_closed() -> None:
    gallery = Gallery()
    gallery.add("alice", at(0.1, 0))
    gallery.add("bob", at(0.9, 1))
    assert gallery.identify(ORIGIN, math.nan, 0.0).reason is Reason.UNKNOWN_FACE
    assert gallery.identify(ORIGIN, 0.6, math.nan).reason is Reason.BELOW_MARGIN
    assert not verify(ORIGIN, at(0.1), math.nan).same


def test_identification_of_many_people_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(13)
    people = {f"p{i}": rng.normal(0.0, 0.1, (3, DESCRIPTOR_SIZE)) for i in range(6)}
    gallery = Gallery()
    for name, templates in people.items():
        gallery.add(name, templates.astype(np.float32))
    probe = rng.normal(0.0, 0.1, DESCRIPTOR_SIZE).astype(np.float32)
    expected = {
        name: min(float(np.linalg.norm(t.astype(np.float32) - probe)) for t in templates)
        for name, templates in people.items()
    }
    got = gallery.person_distances(probe)
    assert got.keys() == expected.keys()
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=1e-5)
    ranked = sorted(expected, key=expected.__getitem__)
    result = gallery.identify(probe, threshold=10.0, min_margin=0.0)
    assert result.nearest_person_id == ranked[0]
    assert result.second_distance == pytest.approx(expected[ranked[1]], rel=1e-5)


def test_a_gallery_of_rows_is_the_gallery_added_row_by_row() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(5, 128)).astype(np.float32)
    people = ["b", "a", "b", "c", "a"]
    added = Gallery()
    for person, row in zip(people, matrix, strict=True):
        added.add(person, row)
    bulk = Gallery.of_rows(people, matrix)
    for (p, r), (q, s) in zip(bulk.rows(), added.rows(), strict=True):
        assert p == q
        np.testing.assert_array_equal(r, s)
    probe = matrix[3] + 0.01
    assert bulk.person_distances(probe) == added.person_distances(probe)
    with pytest.raises(ValueError, match="person ids"):
        Gallery.of_rows(people[:4], matrix)
    broken = matrix.copy()
    broken[1, 7] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Gallery.of_rows(people, broken)
