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
    if delta.digest is not None and gallery_digest(result) != delta.digest:
        raise GalleryDeltaError("the gallery the delta makes is not the server's (digest)")
    return result


_ROW_WEIGHTS = (
    np.arange(1, DESCRIPTOR_SIZE + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
) | 1
"""Odd 64-bit weights of a row's 128 values' bits in its fingerprint (fixed forever)."""


def gallery_digest(gallery: Gallery) -> str:
    """SHA-256 (hex) of ``gallery``'s templates: ids, people and values, in id order.

    Two galleries of the same templates (each id with the same person and the same
    float32 values) have the same digest whatever their rows' order, so the server
    states the digest of the gallery a delta must make and the gate checks the one it
    made (:func:`apply_delta`). A row's values enter as a 64-bit fingerprint (the
    weighted sum, modulo 2**64, of their bit patterns: exact integer arithmetic, the
    same on every machine), not byte for byte: the digest checks that the delta was
    applied to the right rows; the values themselves are authenticated by the seal
    they came under. About 50 ms at 75,000 templates besides the search index (which
    the gate builds anyway for its first search).

    Raises:
        ValueError: ``gallery`` has no template ids.
    """
    ids = gallery.template_ids()
    if ids is None:
        raise ValueError("a gallery without template ids has no digest")
    names, labels, matrix = gallery.as_index()
    fingerprints = np.einsum("ij,j->i", matrix.view(np.uint32), _ROW_WEIGHTS)
    id_array = np.array(ids, dtype=str)
    order = np.argsort(id_array, kind="stable")
    digest = hashlib.sha256()
    for part in (
        id_array[order].tobytes(),  # the ids, sorted (UTF-32)
        "\n".join(names).encode(),  # the people, sorted
        labels[order].astype("<i8").tobytes(),  # each template's person
        fingerprints[order].astype("<u8").tobytes(),  # its values' fingerprint
    ):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()
