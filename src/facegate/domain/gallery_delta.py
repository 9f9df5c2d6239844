"""A gallery's change between two versions, by template id: what was added, what removed.

A site server that knows which templates a gate's gallery held at the version the gate
names (:mod:`facegate.services.gallery_history`) sends only the change
(:func:`gallery_delta`); the gate applies it to the gallery it holds
(:func:`apply_delta`) into a new gallery, or refuses it whole. Template ids are never
reused for another face, but a template may leave a gallery (consent withdrawn, moved
out) and come back later under the same id: the change is the plain difference of the
two id sets, so that needs nothing special.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facegate.domain.matching import DESCRIPTOR_SIZE, Gallery


class GalleryDeltaError(ValueError):
    """A change that does not fit the gallery it would be applied to (not applied)."""


@dataclass(frozen=True, slots=True)
class GalleryDelta:
    """The change from a base gallery to a new one.

    Attributes:
        removed: ids of the base's templates the new gallery no longer holds.
        added: the new gallery's templates the base did not hold (with ids and people).
        total: how many templates the new gallery holds (a check on the result).
        digest: :func:`gallery_digest` of the new gallery (a check on the result;
            ``None``: not checked).
    """

    removed: tuple[str, ...]
    added: Gallery
    total: int
    digest: str | None = None


def gallery_delta(base_ids: Sequence[str], gallery: Gallery) -> GalleryDelta:
    """The change from a gallery of templates ``base_ids`` to ``gallery``.

    Raises:
        ValueError: ``gallery`` has no template ids.
    """
    ids = gallery.template_ids()
    if ids is None:
        raise ValueError("a gallery without template ids has no delta")
    if base_ids is ids:  # the very same gallery (a card or rule changed, no face)
        return GalleryDelta((), gallery.take([]), len(ids), gallery_digest(gallery))
    base = set(base_ids)
    now = set(ids)
    removed = tuple(t for t in base_ids if t not in now)
    added = gallery.take([i for i, t in enumerate(ids) if t not in base])
    return GalleryDelta(removed, added, len(ids), gallery_digest(gallery))


def apply_delta(base: Gallery, delta: GalleryDelta) -> Gallery:
    """A new gallery: ``base`` without ``delta.removed``, with ``delta.added`` (base unchanged).

    The new gallery's digest is ``base``'s less the removed rows' and plus the added
    rows' (see :func:`gallery_digest`): the work of the change, once ``base``'s is known.

    Raises:
        GalleryDeltaError: ``base`` has no template ids, a removed id is not in it, an
            added id already is, the result does not hold ``delta.total`` templates, or
            its :func:`gallery_digest` is not ``delta.digest``; nothing is applied then
            (the caller asks for the whole gallery).
    """
    ids = base.template_ids()
    added = delta.added.template_ids()
    if ids is None or added is None:
        raise GalleryDeltaError("a gallery without template ids cannot take a delta")
    position = {t: i for i, t in enumerate(ids)}
    gone = [position.get(t, -1) for t in delta.removed]
    if -1 in gone or len(set(gone)) != len(gone):
        raise GalleryDeltaError("the delta removes templates this gallery does not hold")
    if any(t in position for t in added):
        raise GalleryDeltaError("the delta adds templates this gallery holds already")
    keep = np.ones(len(ids), dtype=bool)
    keep[gone] = False
    result = base.take(np.flatnonzero(keep).tolist()).joined(delta.added)
    if len(result) != delta.total:
        raise GalleryDeltaError(f"the delta makes {len(result)} templates, not {delta.total}")
    if delta.digest is not None:
        made = _sum_of(base) - _row_sum(base.take(gone)) + _row_sum(delta.added)
        if _hex(made) != delta.digest:
            raise GalleryDeltaError("the gallery the delta makes is not the server's (digest)")
        _remember(result, made)
    return result


_ROW_WEIGHTS = (
    np.arange(1, DESCRIPTOR_SIZE + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
) | 1
"""Odd 64-bit weights of a row's 128 values' bits in its fingerprint (fixed forever)."""
_MODULUS = 1 << 256
"""The row hashes are summed modulo this (256 bits, a SHA-256's)."""
_SUMS: weakref.WeakKeyDictionary[Gallery, tuple[tuple[str, ...], int]] = weakref.WeakKeyDictionary()
"""Each gallery's sum once known, with the ids it is of (a gallery built again differs)."""


def gallery_digest(gallery: Gallery) -> str:
    """The digest (64 hex characters) of ``gallery``'s templates: ids, people and values.

    The sum, modulo 2**256, of one SHA-256 per template (of its id, its person and a
    64-bit fingerprint of its values), so two galleries of the same templates (each id
    with the same person and the same float32 values) have the same digest whatever
    their rows' order, and a change moves it by the hashes of the rows it removes and
    adds: the server states the digest of the gallery a delta must make and the gate
    checks the one it made (:func:`apply_delta`) at the cost of the change, not of the
    gallery. A row's values enter as the weighted sum, modulo 2**64, of their bit
    patterns (exact integer arithmetic, the same on every machine): the digest checks
    that a delta was applied to the right rows of a gallery the server's (a gallery
    that drifted from it is refetched whole), it is no defence against a forger; the
    values themselves are authenticated by the seal they came under. Computed whole
    once per gallery (about 60 ms at 75,000 templates; a gallery made by
    :func:`apply_delta` knows its own), then remembered while the gallery lives.

    Until 2026-11-28 the digest was one SHA-256 over the ids sorted: a server or a gate
    of either kind finds the other's digest different, refuses the delta and the gate
    fetches the whole snapshot (it fails closed).

    Raises:
        ValueError: ``gallery`` has no template ids.
    """
    return _hex(_sum_of(gallery))


def carry_digest(old: Gallery, new: Gallery, gone: Sequence[int], added: Sequence[int]) -> None:
    """Remember ``new``'s digest as ``old``'s moved by the rows they differ by.

    ``new`` holds ``old``'s templates but its rows ``gone``, and its own rows ``added``
    (positions; the caller knows them from how it made ``new``). For a server that makes
    a new gallery at each version: the digest of the next then costs the change, not a
    hash per template. Nothing is done unless ``old``'s digest is known. A wrong change
    makes a wrong digest, which no gate's gallery matches: the gates then fetch the
    whole snapshot (fail closed).
    """
    known = _SUMS.get(old)
    if known is None or known[0] is not old.template_ids():
        return
    _remember(new, known[1] - _row_sum(old.take(gone)) + _row_sum(new.take(added)))


def _hex(total: int) -> str:
    return f"{total % _MODULUS:064x}"


def _sum_of(gallery: Gallery) -> int:
    """:func:`_row_sum` of ``gallery``, remembered.

    Raises:
        ValueError: ``gallery`` has no template ids.
    """
    ids = gallery.template_ids()
    known = _SUMS.get(gallery)
    if known is not None and known[0] is ids:
        return known[1]
    total = _row_sum(gallery)
    _remember(gallery, total)
    return total


def _remember(gallery: Gallery, total: int) -> None:
    ids = gallery.template_ids()
    if ids is not None:
        _SUMS[gallery] = (ids, total % _MODULUS)


def _row_sum(gallery: Gallery) -> int:
    """The sum, modulo 2**256, of each template's SHA-256 (see :func:`gallery_digest`).

    Raises:
        ValueError: ``gallery`` has no template ids.
    """
    ids = gallery.template_ids()
    if ids is None:
        raise ValueError("a gallery without template ids has no digest")
    names, labels, matrix = gallery.as_index()
    fingerprints = np.einsum("ij,j->i", matrix.view(np.uint32), _ROW_WEIGHTS)
    values = fingerprints.astype("<u8").tobytes()
    people = [name.encode() for name in names]
    total = 0
    for row, (template, label) in enumerate(zip(ids, labels.tolist(), strict=True)):
        key = template.encode()
        record = b"".join((len(key).to_bytes(4, "little"), key, people[label]))
        digest = hashlib.sha256(record + values[8 * row : 8 * row + 8]).digest()
        total += int.from_bytes(digest, "little")
    return total % _MODULUS
