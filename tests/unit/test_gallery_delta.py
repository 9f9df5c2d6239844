"""A gallery's change by template id: computed exactly, applied whole or refused whole,
the gallery it makes checked by digest."""

from __future__ import annotations

import numpy as np
import pytest

from facegate.domain import gallery_delta as gallery_delta_module
from facegate.domain.gallery_delta import (
    GalleryDelta,
    GalleryDeltaError,
    apply_delta,
    carry_digest,
    gallery_delta,
    gallery_digest,
)
from facegate.domain.matching import Gallery
from fakes import unit_descriptor
from support import gallery_by_id


def gallery_of(*templates: tuple[str, str, int]) -> Gallery:
    """A gallery of ``(template id, person id, descriptor seed)`` rows, with ids."""
    matrix = np.stack([unit_descriptor(seed) for _, _, seed in templates])
    return Gallery.of_rows([p for _, p, _ in templates], matrix, [t for t, _, _ in templates])


BASE = (("t1", "ann", 1), ("t2", "ann", 2), ("t3", "bo", 3))


def test_a_delta_applied_to_its_base_makes_the_new_gallery() -> None:
    base = gallery_of(*BASE)
    new = gallery_of(("t2", "ann", 2), ("t3", "bo", 3), ("t4", "cy", 4), ("t5", "cy", 5))
    ids = base.template_ids()
    assert ids is not None
    delta = gallery_delta(ids, new)
    assert delta.removed == ("t1",)
    assert delta.added.template_ids() == ("t4", "t5")
    assert delta.total == 4
    applied = apply_delta(base, delta)
    assert gallery_by_id(applied) == gallery_by_id(new)
    assert len(base) == 3  # the base is left as it was
    assert applied.identify(unit_descriptor(4), 0.57, 0.0).person_id == "cy"
    assert applied.identify(unit_descriptor(1), 0.57, 0.0).person_id is None


def test_a_template_that_left_and_came_back_is_neither_added_nor_removed() -> None:
    base = gallery_of(*BASE)
    ids = base.template_ids()
    assert ids is not None
    # "bo" withdrew consent (t3 left) and granted it again (t3 back): the same ids.
    delta = gallery_delta(ids, gallery_of(*BASE))
    assert (delta.removed, len(delta.added), delta.total) == ((), 0, 3)


def test_the_same_gallery_is_an_empty_delta() -> None:
    gallery = gallery_of(*BASE)
    ids = gallery.template_ids()
    assert ids is not None
    delta = gallery_delta(ids, gallery)
    assert (delta.removed, len(delta.added), delta.total) == ((), 0, 3)
    assert gallery_by_id(apply_delta(gallery, delta)) == gallery_by_id(gallery)


@pytest.mark.parametrize(
    ("removed", "added", "total", "message"),
    [
        (("t9",), (), 2, "does not hold"),
        (("t1", "t1"), (), 1, "does not hold"),
        ((), (("t2", "ann", 2),), 4, "holds already"),
        (("t1",), (), 3, "not 3"),
    ],
)
def test_a_delta_that_does_not_fit_the_gallery_is_refused_whole(
    removed: tuple[str, ...],
    added: tuple[tuple[str, str, int], ...],
    total: int,
    message: str,
) -> None:
    base = gallery_of(*BASE)
    added_gallery = gallery_of(*added) if added else Gallery.of_rows([], np.empty((0, 128)), [])
    with pytest.raises(GalleryDeltaError, match=message):
        apply_delta(base, GalleryDelta(removed, added_gallery, total))
    assert base.template_ids() == ("t1", "t2", "t3")


def test_a_gallery_without_template_ids_takes_no_delta() -> None:
    plain = Gallery()
    plain.add("ann", unit_descriptor(1))
    assert plain.template_ids() is None
    empty = Gallery.of_rows([], np.empty((0, 128)), [])
    with pytest.raises(GalleryDeltaError, match="without template ids"):
        apply_delta(plain, GalleryDelta((), empty, 1))
    with pytest.raises(ValueError, match="without template ids"):
        gallery_delta(("t1",), plain)


def test_template_ids_must_be_one_distinct_id_per_row() -> None:
    matrix = np.stack([unit_descriptor(1), unit_descriptor(2)])
    with pytest.raises(ValueError, match="not distinct"):
        Gallery.of_rows(["ann", "bo"], matrix, ["t1", "t1"])
    with pytest.raises(ValueError, match="1 template ids for 2"):
        Gallery.of_rows(["ann", "bo"], matrix, ["t1"])


def test_two_galleries_that_share_a_template_id_are_not_joined() -> None:
    with pytest.raises(ValueError, match="share a template id"):
        gallery_of(("t1", "ann", 1)).joined(gallery_of(("t1", "bo", 2)))


def test_the_gallery_digest_is_of_ids_people_and_values_whatever_the_rows_order() -> None:
    digest = gallery_digest(gallery_of(*BASE))
    assert gallery_digest(gallery_of(*reversed(BASE))) == digest
    assert gallery_digest(gallery_of(("t1", "ann", 1), ("t2", "bo", 2), ("t3", "bo", 3))) != digest
    assert gallery_digest(gallery_of(("t1", "ann", 1), ("t2", "ann", 9), ("t3", "bo", 3))) != digest
    assert gallery_digest(gallery_of(("t1", "ann", 1), ("t9", "ann", 2), ("t3", "bo", 3))) != digest


def test_a_delta_that_does_not_make_the_stated_gallery_is_refused() -> None:
    # Same ids and count as the server's base, but t2 holds other values at this gate:
    # the count check passes, the digest of the gallery made does not.
    ids = gallery_of(*BASE).template_ids()
    assert ids is not None
    delta = gallery_delta(ids, gallery_of(*BASE, ("t4", "cy", 4)))
    here = gallery_of(("t1", "ann", 1), ("t2", "ann", 7), ("t3", "bo", 3))
    with pytest.raises(GalleryDeltaError, match="not the server's"):
        apply_delta(here, delta)
    assert len(apply_delta(gallery_of(*BASE), delta)) == 4


def test_the_digest_a_delta_makes_is_the_digest_of_the_gallery_it_makes() -> None:
    base = gallery_of(*BASE)
    gallery_digest(base)  # known to the gate (computed once per whole snapshot)
    new = gallery_of(("t3", "bo", 3), ("t4", "cy", 4), ("t2", "ann", 2))
    ids = base.template_ids()
    assert ids is not None
    applied = apply_delta(base, gallery_delta(ids, new))
    # The gate's digest (the base's moved by the change) is the one made from scratch.
    fresh = gallery_of(("t2", "ann", 2), ("t3", "bo", 3), ("t4", "cy", 4))
    assert gallery_digest(applied) == gallery_digest(fresh) == gallery_digest(new)
    again = gallery_of(("t4", "cy", 4), ("t5", "dee", 5))
    applied_ids = applied.template_ids()
    assert applied_ids is not None
    twice = apply_delta(applied, gallery_delta(applied_ids, again))  # checked on the carried
    assert gallery_digest(twice) == gallery_digest(gallery_of(("t5", "dee", 5), ("t4", "cy", 4)))


def test_a_delta_and_a_servers_next_gallery_hash_only_the_templates_that_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[int] = []
    row_sum = gallery_delta_module._row_sum

    def counting(gallery: Gallery) -> int:
        hashed.append(len(gallery))
        return row_sum(gallery)

    monkeypatch.setattr(gallery_delta_module, "_row_sum", counting)
    rows = [(f"t{n}", f"p{n // 3}", n) for n in range(60)]
    base, server = gallery_of(*rows), gallery_of(*rows)
    gallery_digest(base)
    gallery_digest(server)
    assert hashed == [60, 60]  # once whole, per gallery
    new = gallery_of(*rows[1:], ("t99", "p99", 99), ("t98", "p99", 98))
    carry_digest(server, new, [0], [59, 60])  # the server's next version: moved by the change
    digest = gallery_digest(new)
    ids = base.template_ids()
    assert ids is not None
    applied = apply_delta(base, gallery_delta(ids, new))  # the gate: the same
    assert sum(hashed[2:]) == 2 * 3  # one removed, two added, on each side
    fresh = gallery_of(("t98", "p99", 98), *reversed(rows[1:]), ("t99", "p99", 99))
    assert gallery_digest(applied) == digest == gallery_digest(fresh)


def test_no_digest_is_carried_from_a_gallery_whose_digest_is_not_known() -> None:
    old, new = gallery_of(*BASE), gallery_of(*BASE[1:])
    carry_digest(old, new, [0], [])
    assert gallery_digest(new) == gallery_digest(gallery_of(*reversed(BASE[1:])))
