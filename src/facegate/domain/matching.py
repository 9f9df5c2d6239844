"""Descriptor comparison: 1:1 verification and 1:N identification against a gallery.

Descriptors are 128-D float vectors compared by euclidean ``distance`` (lower is closer).
A comparison *matches* when ``distance <= threshold``. Identification also demands a
``margin``: the best person's distance must beat the second-best person's by at least
``min_margin``, so two look-alikes never resolve to whichever happens to be closer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facegate.domain.impostors import (
    DEFAULT_MAX_FPIR,
    ImpostorCurve,
    identification_threshold,
    shipped_impostor_curve,
)
from facegate.domain.reasons import Reason

FloatArray = npt.NDArray[np.float32]

DESCRIPTOR_SIZE = 128
"""Length of one face descriptor."""


def as_descriptor_matrix(descriptors: Sequence[FloatArray] | FloatArray) -> FloatArray:
    """Stack descriptors into an ``(n, 128)`` float32 matrix, checking their shape.

    Raises:
        ValueError: when a descriptor is not 128 finite floats.
    """
    matrix = np.asarray(descriptors, dtype=np.float32)
    if matrix.ndim == 1:
        # An empty sequence is no descriptors, not one descriptor of length 0.
        matrix = matrix.reshape(1, -1) if matrix.size else matrix.reshape(0, DESCRIPTOR_SIZE)
    if matrix.ndim != 2 or matrix.shape[1] != DESCRIPTOR_SIZE:
        raise ValueError(f"descriptors must have shape (n, {DESCRIPTOR_SIZE}), got {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("descriptors contain NaN or infinite values")
    return matrix


def _single_descriptor(descriptor: FloatArray) -> FloatArray:
    """Check that ``descriptor`` is exactly one descriptor of 128 finite floats."""
    matrix = as_descriptor_matrix(descriptor)
    if matrix.shape[0] != 1:
        raise ValueError(f"expected one descriptor, got {matrix.shape[0]}")
    row: FloatArray = matrix[0]
    return row


def euclidean_distances(probe: FloatArray, gallery: FloatArray) -> FloatArray:
    """Euclidean distance from one probe descriptor to each row of ``gallery``.

    Args:
        probe: a ``(128,)`` descriptor.
        gallery: an ``(n, 128)`` matrix.

    Returns:
        ``(n,)`` distances, float32, lower is closer.
    """
    diff = gallery - probe.reshape(1, -1)
    distances: FloatArray = np.sqrt(np.einsum("ij,ij->i", diff, diff)).astype(np.float32)
    return distances


def pairwise_distances(a: FloatArray, b: FloatArray) -> npt.NDArray[np.float64]:
    """All euclidean distances between rows of ``a`` ``(m, 128)`` and ``b`` ``(n, 128)``.

    Returns:
        An ``(m, n)`` float64 matrix.
    """
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    squared = (
        np.einsum("ij,ij->i", a64, a64)[:, None]
        + np.einsum("ij,ij->i", b64, b64)[None, :]
        - 2.0 * a64 @ b64.T
    )
    distances: npt.NDArray[np.float64] = np.sqrt(np.clip(squared, 0.0, None))
    return distances


DLIB_TRAINED_RADIUS = 0.6
"""The euclidean radius dlib's descriptor was trained to separate people at."""

DEFAULT_MATCH_THRESHOLD = 0.57
"""The threshold facegate ships, used until a site calibrates its own (euclidean distance).

Calibrated, not guessed: ``bench/split_people.py ../shared/data/faces --seed 0`` splits
the five shared identity sets by people, and ``facegate calibrate <calibration half>
--target-fmr 1e-2 --impostors same_set`` gave 0.5677 (FMR 0.0100 over 22,746 impostor
comparisons, FNMR 0.015), rounded to 0.57; seeds 1 and 2 gave 0.578 and 0.574. Below dlib's
0.6 because at 0.6 strangers match too often for a door: FMR 0.017 on the AT&T faces and
0.045 on the Yale faces. Figures on the held-out half are in the issue notes.
"""


DEFAULT_MIN_MARGIN = 0.06
"""The least lead of the nearest person over the second in 1:N search (euclidean units).

Measured (``bench/fpir_gallery.py --seed 0``: the 87 real people of the shared sets split
by people, each enrolled from 3 photos): chosen on the *choose* half (42 people) as the
largest margin that refuses at most 1 % of residents' own photos at 0.57 (0.69 %; 0.08
costs 1.4 %); on the *report* half (45 people) it refuses none of 316 residents' photos
and cuts the strangers matched to some resident at 0.57 from 118 to 37 of 451.
"""

DEFAULT_DUPLICATE_THRESHOLD = 0.35
"""Largest distance between a new photo and another person's template that flags a
duplicate (or look-alike) enrolment (euclidean units; stricter than the access threshold).

Measured on the shared sets (``bench/fpir_gallery.py``): no two of the 371,397 image
pairs of different people among the 87 real people are this close (the closest, 0.365,
two Yale subjects); re-enrolling a person from 3 other photos comes within it for 86 %
(choose half) and 89 % (report half) of people. At the access threshold (0.57) about 2 %
of (photo, other person) comparisons would flag, i.e. nearly every enrolment at 2,000
residents.
"""


DEFAULT_COHORT_SHARE = 0.01
"""Share of the gallery's other people in a 1:1 check's cohort, nearest first.

The nearest 1 %: 20 of a 2,000-resident complex (the cohort chosen there), 250 of 25,000,
at least one. A share, not a count, so the rule keeps its meaning as the gallery grows:
a fixed 20 at 25,000 residents refused 23 % of residents' frames (docs/matching.md).
"""

DEFAULT_COHORT_MARGIN: float | None = 0.03
"""Face + card: the least lead of the cohort over the card holder (euclidean units).

A 1:1 check (face + card) grants only when the mean distance of the people of the
gallery nearest to the face (:data:`DEFAULT_COHORT_SHARE` of them, the card holder left
out) exceeds the card holder's distance by at least this much; else ``below_margin``:
the face is not distinctively the holder's (a stranger with a look-alike's card, or a
face near everyone, as low-contrast webcam captures are). Measured
(``bench/card_cohort.py --all-frames``, the site bench's cast and fill, 2,000 residents,
docs/matching.md "The cohort rule"): chosen on the choose half of the real people among
cohorts of 1, 5 and 20 people as the strictest margin refusing at most 1 % of residents'
own frames and photos (each apart), then the fewest lent cards granted; on the report
half it refused 2.0 % of residents' video frames (11 of 540, all one NUAA resident's)
and 2.1 % of their photos (3 of 142), and granted none of the 50 video and 475 photo
(stranger, lent card) pairs (8 and 5 without it). ``None`` turns the rule off.
"""


@dataclass(frozen=True, slots=True)
class MatchPolicy:
    """When two descriptors count as the same person.

    Attributes:
        threshold: largest euclidean distance that is a match (typical 0.57, the shipped
            default, or a site's calibrated value; dlib trained for 0.6).
        min_margin: least distance by which the nearest person must beat the second
            nearest in 1:N identification (0.0 disables the check; default
            :data:`DEFAULT_MIN_MARGIN`, 0.06).
        max_fpir: the largest share of strangers that may match *someone* in 1:N search
            (default :data:`~facegate.domain.impostors.DEFAULT_MAX_FPIR`, 1e-2; 1 keeps
            the 1:1 threshold whatever the gallery's size). 1:1 checks ignore it.
        impostors: the per-person stranger rates the 1:N threshold is judged by (the
            shipped curve, or the site's from ``facegate calibrate``).
        cohort_margin: in a 1:1 check (face + card), the least distance by which the
            mean distance of the nearest *other* people of the gallery (the cohort)
            must exceed the claimed person's distance (euclidean units; ``None`` turns
            the rule off). Default :data:`DEFAULT_COHORT_MARGIN`.
        cohort_share: the share of the other people the cohort takes, nearest first
            (at least one: :meth:`cohort_count`). Default :data:`DEFAULT_COHORT_SHARE`.
    """

    threshold: float
    min_margin: float
    max_fpir: float = DEFAULT_MAX_FPIR
    impostors: ImpostorCurve = field(default_factory=shipped_impostor_curve)
    cohort_margin: float | None = DEFAULT_COHORT_MARGIN
    cohort_share: float = DEFAULT_COHORT_SHARE

    def cohort_count(self, others: int) -> int:
        """How many of ``others`` other people the cohort takes.

        The share, rounded up, at least 1: 20 of 1,999 at the default 1 %, 250 of 24,999.
        """
        return max(1, math.ceil(self.cohort_share * others - 1e-9))

    def identification_threshold(self, people: int) -> float:
        """The threshold of 1:N search in a gallery of ``people`` (euclidean distance).

        At most :attr:`threshold`, lower as the gallery grows so that a stranger matches
        someone with probability at most :attr:`max_fpir`; ``-inf`` when no distance
        qualifies (the face alone then names nobody). Cached per gallery size. See
        :func:`facegate.domain.impostors.identification_threshold`.
        """
        return identification_threshold(self.threshold, self.max_fpir, self.impostors, people)


@dataclass(frozen=True, slots=True)
class Verification:
    """Result of a 1:1 comparison: ``same`` when ``distance <= threshold``."""

    distance: float
    threshold: float
    same: bool


def verify(a: FloatArray, b: FloatArray, threshold: float) -> Verification:
    """Compare two descriptors.

    Args:
        a: first descriptor.
        b: second descriptor.
        threshold: largest euclidean distance that still counts as the same person
            (facegate's default is 0.57; dlib's trained radius is 0.6).
    """
    _single_descriptor(a)
    _single_descriptor(b)
    distance = float(np.linalg.norm(a.astype(np.float64) - b.astype(np.float64)))
    return Verification(distance=distance, threshold=threshold, same=distance <= threshold)


@dataclass(frozen=True, slots=True)
class Identification:
    """Result of a 1:N search.

    Attributes:
        person_id: the matched person, or ``None`` for "unknown".
        nearest_person_id: the closest person whatever the decision (``None`` for an
            empty gallery); useful for diagnostics, never for access.
        distance: distance to the nearest person's closest template (``inf`` if empty).
        second_distance: distance to the second-nearest *other* person (``inf`` if none).
        margin: ``second_distance - distance`` (``inf`` when only one person is enrolled).
        reason: ``granted`` for a match, else ``unknown_face`` or ``below_margin``.
    """

    person_id: str | None
    nearest_person_id: str | None
    distance: float
    second_distance: float
    margin: float
    reason: Reason

    @property
    def matched(self) -> bool:
        """Whether the probe was identified as an enrolled person."""
        return self.person_id is not None


@dataclass(frozen=True, slots=True)
class _SearchIndex:
    """A gallery's templates held for search, grouped by person.

    Attributes:
        matrix: ``(n, 128)`` float32, C-contiguous, rows sorted by person (stable).
        labels: ``(n,)`` person position of each row of ``matrix``.
        names: the people, sorted.
        starts: ``(people,)`` first row of each person in ``matrix``.
        ends: ``(people,)`` one past the last row of each person in ``matrix``.
        half_norms: ``(n,)`` float32, half the squared norm of each row of ``matrix``
            (``inf`` where it overflows float32), so that ``half_norms - matrix @ probe``
            is every squared distance, halved, less half the probe's squared norm.
        max_half_norm: the largest of ``half_norms`` (0 when empty).
        order: ``order[i]`` is the added position of ``matrix`` row ``i``.
    """

    matrix: FloatArray
    labels: npt.NDArray[np.int64]
    names: list[str]
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    half_norms: FloatArray
    max_half_norm: float
    order: npt.NDArray[np.int64]

    def rows_of(self, person: int) -> FloatArray:
        """The templates of person ``person`` (a view)."""
        return self.matrix[self.starts[person] : self.ends[person]]

    def nearest_people(self, probe: FloatArray) -> npt.NDArray[np.int64]:
        """The people that may be nearest or second nearest to ``probe`` (positions, sorted).

        Screens every template with one float32 matrix-vector product against the
        precomputed half norms: ``screen[i] = |t_i|^2 / 2 - t_i . probe``, which orders
        the templates as their distances do. The nearest person is the one of the
        smallest screened template; the second nearest's screened value is the smallest
        outside that person's rows. A person is kept when some template of theirs is
        within :data:`SCREEN_TOLERANCE` (relative) of that second value, a bound above
        twice float32's rounding error of the product, so the true two nearest (ties
        included) are always among those kept; their exact distances then decide. No
        per-person reduction over the whole gallery and no temporary array of the
        matrix's size (only ``(n,)`` ones).
        """
        screened = self._screen(probe, 2)
        if screened is None:
            return np.arange(len(self.names), dtype=np.int64)
        screen, scale = screened
        best = int(self.labels[int(np.argmin(screen))])
        start, end = int(self.starts[best]), int(self.ends[best])
        second = min(
            float(screen[:start].min(initial=np.inf)), float(screen[end:].min(initial=np.inf))
        )
        close = np.flatnonzero(screen <= np.float32(second + SCREEN_TOLERANCE * scale))
        kept: npt.NDArray[np.int64] = np.unique(self.labels[close])
        return kept

    def nearest_others(
        self, probe: FloatArray, person: int | None, count: int
    ) -> npt.NDArray[np.int64]:
        """The people that may be among the ``count`` nearest to ``probe`` but ``person``.

        The screen of :meth:`nearest_people`, reduced per person (an ``(people,)``
        array); a person is kept when their screened value is within
        :data:`SCREEN_TOLERANCE` of the ``count``-th smallest, so the true ``count``
        nearest (ties included) are among those kept; exact distances then decide.
        Positions, sorted; ``person`` (``None``: nobody) never among them.
        """
        others = np.arange(len(self.names), dtype=np.int64)
        screened = self._screen(probe, count + 1)
        if screened is None:
            return others if person is None else np.delete(others, person)
        screen, scale = screened
        per_person = np.minimum.reduceat(screen, self.starts)
        if person is not None:
            per_person[person] = np.inf
        if count < len(per_person):
            bound = float(np.partition(per_person, count - 1)[count - 1])
            others = np.flatnonzero(per_person <= np.float32(bound + SCREEN_TOLERANCE * scale))
        kept: npt.NDArray[np.int64] = others[np.isfinite(per_person[others])]
        return kept

    def _screen(self, probe: FloatArray, wanted: int) -> tuple[FloatArray, float] | None:
        """Every template's screened value and the screen's scale, or ``None``.

        ``None`` when the gallery holds no more than ``wanted`` people (comparing them
        all is as cheap) or float32 cannot screen these values (too large).
        """
        with np.errstate(over="ignore"):
            scale = self.max_half_norm + 0.5 * float(np.dot(probe, probe))
        if len(self.names) <= wanted or not scale <= _SCREEN_LIMIT:
            return None  # float32 cannot screen values this large: compare exactly
        # einsum, not BLAS: as fast as one-thread sgemv here (memory bound), and no
        # thread pool to wait on; a 2-thread OpenBLAS gemv took 24 ms (p50) at load 10.
        screen: FloatArray = np.einsum("ij,j->i", self.matrix, probe)
        np.subtract(self.half_norms, screen, out=screen)
        return screen, scale


_SCREEN_LIMIT = float(np.finfo(np.float32).max) / 4.0
"""The largest screening scale (halved squared norms) whose screen cannot overflow float32."""

SCREEN_TOLERANCE = 1e-4
"""Slack of the float32 screening of 1:N search, relative to the (halved) squared norms
(about 100 times float32's rounding error of a 128-term dot product)."""


class Gallery:
    """An in-memory set of templates, several per person allowed.

    A person's distance to a probe is the distance of their closest template. A gallery
    built with template ids (:meth:`of_rows`, :meth:`from_index`) knows which stored
    template each row is, so a change can be applied to it by id
    (:mod:`facegate.domain.gallery_delta`); one built by :meth:`add` does not.
    """

    def __init__(self) -> None:
        self._person_ids: list[str] = []
        self._rows: list[FloatArray] = []
        self._template_ids: tuple[str, ...] | None = ()
        self._stacked: FloatArray | None = None  # ``_rows`` as one matrix, when built so
        self._search: _SearchIndex | None = None

    def add(self, person_id: str, descriptors: Sequence[FloatArray] | FloatArray) -> None:
        """Add one or more templates for ``person_id`` (the gallery then has no template ids)."""
        matrix = as_descriptor_matrix(descriptors)
        for row in matrix:
            self._person_ids.append(person_id)
            self._rows.append(row)
        self._template_ids = None
        self._stacked = None
        self._search = None

    def __len__(self) -> int:
        """Number of templates."""
        return len(self._rows)

    def people_count(self) -> int:
        """Number of enrolled people (cached with the search index)."""
        return len(self._index().names)

    def person_ids(self) -> list[str]:
        """The enrolled people, sorted."""
        return sorted(set(self._person_ids))

    def rows(self) -> list[tuple[str, FloatArray]]:
        """Every template with its person, in the order added (for copying a gallery)."""
        return list(zip(self._person_ids, self._rows, strict=True))

    def template_ids(self) -> tuple[str, ...] | None:
        """Each row's template id, in the order added; ``None`` when built without them.

        The same tuple object for as long as the gallery lives (callers may keep it and
        compare by identity).
        """
        return self._template_ids

    def take(self, positions: Sequence[int]) -> Gallery:
        """A new gallery of the rows at ``positions`` (in that order), ids kept.

        The rows are shared with this gallery (no copy of the values).
        """
        taken = Gallery()
        taken._person_ids = [self._person_ids[i] for i in positions]
        taken._rows = [self._rows[i] for i in positions]
        ids = self._template_ids
        taken._template_ids = None if ids is None else tuple(ids[i] for i in positions)
        return taken

    def joined(self, other: Gallery) -> Gallery:
        """A new gallery of this one's rows, then ``other``'s (ids kept where both have them).

        Raises:
            ValueError: the two share a template id.
        """
        joined = Gallery()
        joined._person_ids = self._person_ids + other._person_ids
        joined._rows = self._rows + other._rows
        mine, theirs = self._template_ids, other._template_ids
        ids = None if mine is None or theirs is None else mine + theirs
        if ids is not None and len(set(ids)) != len(ids):
            raise ValueError("the two galleries share a template id")
        joined._template_ids = ids
        return joined

    def _set_ids(self, template_ids: Sequence[str] | None) -> None:
        """Take ``template_ids`` as the rows' ids (``None``: none known).

        Raises:
            ValueError: not one id per row, or not distinct.
        """
        if template_ids is None:
            self._template_ids = None
            return
        ids = tuple(str(t) for t in template_ids)
        if len(ids) != len(self._rows):
            raise ValueError(f"{len(ids)} template ids for {len(self._rows)} templates")
        if len(set(ids)) != len(ids):
            raise ValueError("gallery template ids are not distinct")
        self._template_ids = ids

    def as_index(self) -> tuple[list[str], npt.NDArray[np.int64], FloatArray]:
        """The whole gallery as ``(names, labels, matrix)``, rows in the order added.

        ``names`` are the people, sorted; ``labels[i]`` is the position in ``names`` of
        the person of row ``i`` of the ``(n, 128)`` float32 ``matrix`` (read-only: the
        gallery's own when it holds one). The inverse of :meth:`from_index` (for moving
        or digesting a gallery without a Python object per value); no search index is
        made for it.
        """
        names, labels = self._labels()
        matrix = self._stacked
        if matrix is None:
            matrix = as_descriptor_matrix(self._rows)
        view = matrix.view()
        view.flags.writeable = False
        return names, labels, view

    @classmethod
    def from_index(
        cls,
        names: Sequence[str],
        labels: npt.NDArray[np.integer],
        matrix: FloatArray,
        template_ids: Sequence[str] | None = None,
    ) -> Gallery:
        """A gallery of ``matrix``'s rows, row ``i`` of person ``names[labels[i]]``.

        ``template_ids``: row ``i``'s stored template id (``None``: not known).

        Raises:
            ValueError: ``matrix`` is not ``(n, 128)`` finite floats, ``labels`` is not
                ``n`` positions in ``names``, ``names`` are not distinct, or the
                template ids are not ``n`` distinct ids.
        """
        matrix = as_descriptor_matrix(matrix)
        labels = np.asarray(labels)
        if labels.shape != (matrix.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError(f"{labels.shape} labels for {matrix.shape[0]} templates")
        if len(set(names)) != len(names):
            raise ValueError("gallery person ids are not distinct")
        if len(labels) and not (labels.min() >= 0 and labels.max() < len(names)):
            raise ValueError("gallery labels out of range")
        gallery = cls()
        name_list = [str(n) for n in names]
        gallery._person_ids = [name_list[i] for i in labels.tolist()]
        gallery._rows = list(matrix)
        gallery._set_ids(template_ids)
        gallery._stacked = matrix
        return gallery

    @classmethod
    def of_rows(
        cls,
        person_ids: Sequence[str],
        matrix: FloatArray,
        template_ids: Sequence[str] | None = None,
    ) -> Gallery:
        """A gallery of ``matrix``'s rows, row ``i`` of ``person_ids[i]`` (checked once).

        The bulk form of :meth:`add` (a 75,000-template gallery in milliseconds).
        ``template_ids``: row ``i``'s stored template id (``None``: not known).

        Raises:
            ValueError: ``matrix`` is not ``(n, 128)`` finite floats for ``n`` ids, or
                the template ids are not ``n`` distinct ids.
        """
        matrix = as_descriptor_matrix(matrix)
        if matrix.shape[0] != len(person_ids):
            raise ValueError(f"{len(person_ids)} person ids for {matrix.shape[0]} templates")
        gallery = cls()
        gallery._person_ids = list(person_ids)
        gallery._rows = list(matrix)
        gallery._set_ids(template_ids)
        gallery._stacked = matrix
        return gallery

    def _labels(self) -> tuple[list[str], npt.NDArray[np.int64]]:
        """The people, sorted, and each row's position among them."""
        names = sorted(set(self._person_ids))
        position = {name: i for i, name in enumerate(names)}
        return names, np.array([position[p] for p in self._person_ids], dtype=np.int64)

    def _index(self) -> _SearchIndex:
        if self._search is None:
            names, added = self._labels()
            order = np.argsort(added, kind="stable").astype(np.int64)
            stacked = self._stacked
            if stacked is None:  # stacking 75,000 row arrays again cost 0.1 s
                stacked = as_descriptor_matrix(self._rows)
            matrix = np.ascontiguousarray(stacked[order])
            labels = added[order]
            starts = np.searchsorted(labels, np.arange(len(names))).astype(np.int64)
            ends = np.searchsorted(labels, np.arange(len(names)), "right").astype(np.int64)
            # Templates near float32's limit overflow here; the screen then sees an
            # infinite norm and :meth:`_SearchIndex.nearest_people` compares exactly.
            with np.errstate(over="ignore"):
                half_norms = (0.5 * np.einsum("ij,ij->i", matrix, matrix)).astype(np.float32)
            max_half_norm = float(half_norms.max(initial=0.0))
            self._search = _SearchIndex(
                matrix, labels, names, starts, ends, half_norms, max_half_norm, order
            )
        return self._search

    def person_distances(self, probe: FloatArray) -> dict[str, float]:
        """Each person's distance to ``probe`` (their closest template), in euclidean units."""
        probe = _single_descriptor(probe)
        index = self._index()
        if not index.names:
            return {}
        per_person = np.minimum.reduceat(euclidean_distances(probe, index.matrix), index.starts)
        return {name: float(d) for name, d in zip(index.names, per_person.tolist(), strict=True)}

    def person_distance(self, probe: FloatArray, person_id: str) -> float:
        """Distance from ``probe`` to ``person_id``'s closest template (``inf`` if none).

        The 1:1 check of a claimed person: only that person's templates are compared.
        """
        probe = _single_descriptor(probe)
        index = self._index()
        if person_id not in index.names:
            return float(np.inf)
        rows = index.rows_of(index.names.index(person_id))
        return float(euclidean_distances(probe, rows).min())

    def nearest_other_distances(
        self, probe: FloatArray, person_id: str, count: int
    ) -> npt.NDArray[np.float64]:
        """The distances of the ``count`` people nearest to ``probe`` but ``person_id``.

        Each person's distance is their closest template's (euclidean units); ascending,
        fewer than ``count`` when fewer others are enrolled. The cohort of a 1:1 check
        (:attr:`MatchPolicy.cohort_margin`): every template is compared, as 1:N search
        does, but nobody else is named.
        """
        probe = _single_descriptor(probe)
        index = self._index()
        if not index.names or count < 1:
            return np.empty(0, np.float64)
        person = index.names.index(person_id) if person_id in index.names else None
        kept = index.nearest_others(probe, person, count)
        exact = [float(euclidean_distances(probe, index.rows_of(int(p))).min()) for p in kept]
        nearest: npt.NDArray[np.float64] = np.sort(np.asarray(exact, np.float64))[:count]
        return nearest

    def identify(self, probe: FloatArray, threshold: float, min_margin: float) -> Identification:
        """Find who ``probe`` is, or say "unknown".

        The nearest two people are found by a vectorised screen of every template
        (:meth:`_SearchIndex.nearest_people`), then their exact distances decide.

        Args:
            probe: a 128-D descriptor.
            threshold: largest distance that counts as a match (typical 0.57).
            min_margin: least distance by which the best person must beat the second
                (typical 0.0-0.05; 0 disables the margin check).
        """
        probe = _single_descriptor(probe)
        index = self._index()
        if not index.names:
            return Identification(None, None, np.inf, np.inf, np.inf, Reason.UNKNOWN_FACE)
        kept = index.nearest_people(probe)
        exact = [float(euclidean_distances(probe, index.rows_of(int(p))).min()) for p in kept]
        ranked = sorted(zip(exact, kept.tolist(), strict=True))
        best, nearest = ranked[0][0], index.names[ranked[0][1]]
        second = ranked[1][0] if len(ranked) > 1 else np.inf
        margin = second - best
        # Written so that a NaN limit fails closed rather than granting; a -inf one (no
        # threshold meets the FPIR target) matches nobody.
        if not best <= threshold:
            reason = Reason.UNKNOWN_FACE
        elif not margin >= min_margin:
            reason = Reason.BELOW_MARGIN
        else:
            reason = Reason.GRANTED
        person = nearest if reason is Reason.GRANTED else None
        return Identification(person, nearest, best, second, margin, reason)

    def search(self, probe: FloatArray, policy: MatchPolicy) -> tuple[Identification, float]:
        """Identify ``probe`` at ``policy``'s threshold for this gallery's size.

        Returns:
            The identification and the threshold it used (euclidean distance; ``-inf``
            when no threshold meets ``policy.max_fpir`` at this many people).
        """
        limit = policy.identification_threshold(self.people_count())
        return self.identify(probe, limit, policy.min_margin), limit
