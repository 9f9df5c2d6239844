"""Decrypted templates held in memory for gate galleries, opened in bulk.

A :class:`TemplateCache` keeps each (site key, model)'s decrypted templates as one
:class:`TemplateBlock`: the template ids, their people and one ``(n, 128)`` float32
matrix. A refresh keeps the rows still wanted, drops those
deleted or of people no longer usable (erased, consent withdrawn, moved out) and opens
only the new ones; a cold start (most of the gallery new) reads the model's templates
with their people's wrapped keys in one scan and decrypts them into one array
(:meth:`facegate.ports.TemplateSealer.open_rows`): no object and no array per template.
Decrypted templates are held in this process's memory only, never written anywhere.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np

from facegate.domain.credentials import SealedRow, WrappedKey
from facegate.domain.gallery_delta import carry_digest
from facegate.domain.matching import DESCRIPTOR_SIZE, FloatArray, Gallery
from facegate.ports import TemplateSealer, UnitOfWork
from facegate.services.bulk import collector_paused


@dataclass(frozen=True, slots=True)
class TemplateBlock:
    """Decrypted templates held together.

    Attributes:
        ids: the template ids (in no set order).
        people: ``people[i]`` owns template ``ids[i]``.
        matrix: ``(len(ids), 128)`` float32, row ``i`` the descriptor of ``ids[i]``.
    """

    ids: tuple[str, ...]
    people: list[str]
    matrix: FloatArray
    _rows: list[dict[str, int]] = field(default_factory=list, repr=False, compare=False)

    @property
    def rows(self) -> dict[str, int]:
        """Template id to its row (made on first use: a cold block may never need it)."""
        if not self._rows:
            self._rows.append({t: i for i, t in enumerate(self.ids)})
        return self._rows[0]

    def __len__(self) -> int:
        """Number of templates."""
        return len(self.ids)

    def __iter__(self) -> Iterator[tuple[str, str, FloatArray]]:
        """``(template id, person id, descriptor)`` of each template (for tests, small)."""
        return iter(zip(self.ids, self.people, self.matrix, strict=True))

    def positions(
        self, index: Sequence[tuple[str, str]]
    ) -> tuple[list[int], list[tuple[str, str]]]:
        """Where ``index``'s ``(template id, person id)`` are held: rows and the rest.

        Returns:
            ``index``'s row here in order (``-1`` where not held, or held as another
            person's), and the entries of ``index`` not held.
        """
        if not self.ids:
            return [-1] * len(index), list(index)
        if len(index) == len(self.ids) and self._holds_in_order(index):
            return list(range(len(index))), []
        rows, people = self.rows, self.people
        at: list[int] = []
        missing: list[tuple[str, str]] = []
        for entry in index:
            row = rows.get(entry[0], -1)
            if row >= 0 and people[row] != entry[1]:
                row = -1
            if row < 0:
                missing.append(entry)
            at.append(row)
        return at, missing

    def _holds_in_order(self, index: Sequence[tuple[str, str]]) -> bool:
        """Whether ``index`` names exactly these templates, in this order.

        The usual case after a cold start (the block and the index read in one scan):
        two list comparisons instead of a lookup per template (75,000 at a large site).
        """
        ids = [entry[0] for entry in index]
        return ids == list(self.ids) and [entry[1] for entry in index] == self.people


EMPTY = TemplateBlock((), [], np.empty((0, DESCRIPTOR_SIZE), np.float32))
"""No templates."""


class TemplateCache:
    """Decrypted templates per (site key, model), as one block each; thread-safe.

    Templates deleted since, or of people no longer usable, are dropped on each
    refresh, so an erased or withdrawn face leaves this process's memory with the next
    rebuild.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blocks: dict[tuple[str, str], TemplateBlock] = {}
        self._galleries: dict[tuple[str, str], tuple[tuple[str, ...], Gallery]] = {}
        self._answered: dict[tuple[str, str], tuple[object, frozenset[str], Gallery]] = {}
        self.opened = 0
        """How many templates were decrypted so far (for tests and benches)."""
        self.walks = 0
        """How many times the templates were walked for a gallery (for tests and benches)."""

    def models(self) -> list[str]:
        """The models whose templates are held (of any site key), sorted."""
        with self._lock:
            return sorted({model for _, model in (*self._blocks, *self._galleries)})

    def gallery(
        self,
        uow: UnitOfWork,
        sealer: TemplateSealer,
        model_id: str,
        usable: AbstractSet[str],
        index: list[tuple[str, str]] | None = None,
    ) -> Gallery:
        """A gallery of the usable templates; the same object while they are the same.

        ``index``: every ``(template id, person id)`` of ``model_id`` (``None``: read
        here). Doors whose galleries hold the same templates (every door, with the
        ``site`` scope) share one gallery and its matrix, instead of one copy per door.
        Asked again with the very ``index`` list of the last call (the row memo hands
        every door the same one per data version) and the same ``usable`` people, it
        answers the last gallery without walking the templates again: after a change,
        every door after the first costs no gallery work (a server refreshing 24 doors
        paid it 24 times). A new version whose template index and people are equal to
        the last (a new card, a rule, a pass: no face changed) is answered the same way,
        after one comparison of the two lists.

        Raises:
            KeyFileError: a new template does not decrypt with the site key.
        """
        slot = (sealer.site_key_id, model_id)
        with self._lock:
            answered = self._answered.get(slot)
        if answered is not None and index is not None and _same(answered[1], usable):
            if answered[0] is index:
                return answered[2]
            if answered[0] == index:  # same faces at a new version
                with self._lock:  # this version's people: its other doors pass the very set
                    self._answered[slot] = (index, frozenset(usable), answered[2])
                return answered[2]
        every = uow.reads.template_index(model_id) if index is None else index
        wanted = [(t, p) for t, p in every if p in usable]
        block, change = self._refreshed(uow, sealer, model_id, wanted)
        with self._lock:
            kept = self._galleries.get(slot)
            if kept is None and not block.ids:  # a model never held: nothing to keep of it
                return Gallery.of_rows([], block.matrix, ())
            if kept is None or kept[0] != block.ids:
                made = Gallery.of_rows(block.people, block.matrix, block.ids)
                if kept is not None and change is not None and kept[0] is change.before:
                    carry_digest(kept[1], made, change.gone, change.added)  # when known
                kept = self._galleries[slot] = (block.ids, made)
            if index is not None:
                self._answered[slot] = (index, frozenset(usable), kept[1])
        return kept[1]

    def held(
        self, sealer: TemplateSealer, model_id: str, index: Sequence[tuple[str, str]]
    ) -> tuple[list[str], FloatArray, list[tuple[str, str]]]:
        """Look ``index``'s ``(template id, person id)`` up without changing the cache.

        Returns:
            The people and descriptors (``(k, 128)``) of those decrypted here already,
            and the entries of the others (to be opened by the caller, not kept: the cache
            keeps only what a snapshot's gallery holds, see :meth:`gallery`).
        """
        with self._lock:
            block = self._blocks.get((sealer.site_key_id, model_id), EMPTY)
        at, missing = block.positions(index)
        found = [row for row in at if row >= 0]
        return [block.people[row] for row in found], block.matrix[found], missing

    def prime(
        self, uow: UnitOfWork, sealer: TemplateSealer, model_id: str, usable: AbstractSet[str]
    ) -> list[tuple[str, str]] | None:
        """On a cold start, hold the usable templates and answer the index read with them.

        When nothing of ``model_id`` is held (a process's first snapshot), the model's
        templates and the data keys are read in one scan each, those of ``usable``
        people opened and held (as :meth:`gallery` would), and ``(template id, person
        id)`` of every template of the model answered from that same scan, in the order
        read: the caller need not read the template index apart (at 25,000 residents
        its read, and matching the 75,000 templates read again to it, were a sixth of
        a cold build).

        Returns:
            The model's template index, or ``None`` (nothing read) when something is
            held already. A model without templates is not held (a gate may name any
            model: what is kept of each would add up).

        Raises:
            KeyFileError: a template does not decrypt with the site key.
        """
        slot = (sealer.site_key_id, model_id)
        with self._lock:
            if slot in self._blocks:
                return None
            read = uow.reads.sealed_rows(model_id, None)
            if not read:  # no template of this model: nothing to hold (nor keys to read)
                return []
            keys = uow.reads.keys(None)
            index = [(row[0], row[1]) for row in read]
            rows = [row for row in read if row[1] in usable and row[1] in keys]
            block = _block(sealer, model_id, rows, keys)
            self.opened += len(block)
            self._blocks[slot] = block
            return index

    def _refreshed(
        self,
        uow: UnitOfWork,
        sealer: TemplateSealer,
        model_id: str,
        wanted: list[tuple[str, str]],
    ) -> tuple[TemplateBlock, BlockChange | None]:
        """The block of exactly the ``wanted`` ``(template id, person id)``, decrypted.

        The block held is kept while it holds exactly these templates, in whatever order;
        after a change it is in ``wanted`` order, a cold block (nothing held before) in
        the order the store read it (a gallery does not depend on the order of its rows).

        Returns:
            The block, and how it was made of the one held before (``None``: the same
            block, or a cold one).
        """
        slot = (sealer.site_key_id, model_id)
        with self._lock:
            self.walks += 1
            block = self._blocks.get(slot, EMPTY)
            at, missing = block.positions(wanted)
            if not missing and len(at) == len(block):  # the rows held (ids are distinct)
                return block, None
            opened = _open(uow, sealer, model_id, missing, len(wanted))
            self.opened += len(opened)
            fresh, change = (
                _merged(block, wanted, at, missing, opened) if len(block) else (opened, None)
            )
            self._blocks[slot] = fresh
            return fresh, change


@dataclass(frozen=True, slots=True)
class BlockChange:
    """How a refresh made a block of the one held before.

    Attributes:
        before: the ids of the block held before (the tuple object, for an identity check).
        gone: its rows the new block no longer holds.
        added: the new block's rows not taken from it (opened now).
    """

    before: tuple[str, ...]
    gone: list[int]
    added: list[int]


def _merged(
    block: TemplateBlock,
    wanted: Sequence[tuple[str, str]],
    at: list[int],
    missing: Sequence[tuple[str, str]],
    opened: TemplateBlock,
) -> tuple[TemplateBlock, BlockChange]:
    """The block of ``wanted``: rows ``at`` of ``block`` where held, else from ``opened``.

    ``missing`` are the entries of ``wanted`` whose ``at`` is ``-1``, in order (as
    :meth:`TemplateBlock.positions` returns them). Those opened nowhere either (people
    without a data key: erased) are left out.
    """
    source = np.asarray(at, dtype=np.int64)
    fresh = np.fromiter((opened.rows.get(t, -1) for t, _ in missing), np.int64, len(missing))
    source[source < 0] = np.where(fresh >= 0, fresh + len(block), -1)
    present = source >= 0
    kept = present.tolist()
    ids = tuple(itertools.compress((t for t, _ in wanted), kept))
    people = list(itertools.compress((p for _, p in wanted), kept))
    both = np.concatenate((block.matrix, opened.matrix)) if len(block) else opened.matrix
    rows = source[present]
    held = np.zeros(len(block), dtype=bool)
    held[rows[rows < len(block)]] = True
    change = BlockChange(
        block.ids, np.flatnonzero(~held).tolist(), np.flatnonzero(rows >= len(block)).tolist()
    )
    return TemplateBlock(ids, people, both[rows]), change


def _open(
    uow: UnitOfWork,
    sealer: TemplateSealer,
    model_id: str,
    missing: Sequence[tuple[str, str]],
    wanted: int,
) -> TemplateBlock:
    """Decrypt the ``missing`` ``(template id, person id)`` (of ``wanted`` in all).

    When most of the gallery is missing (a cold start) the model's templates and every
    data key are read in one scan each instead of ``IN`` lists. Templates of people
    without a data key (erased) are left out, and so are any not of the person
    ``missing`` names.

    Returns:
        The opened templates, in the order read.
    """
    if not missing:
        return EMPTY
    needed = dict(missing)
    cold = len(missing) > wanted // 2
    read = uow.reads.sealed_rows(model_id, None if cold else list(needed))
    keys = uow.reads.keys(None if cold else set(needed.values()))
    rows = [row for row in read if needed.get(row[0]) == row[1] and row[1] in keys]
    return _block(sealer, model_id, rows, keys)


def _block(
    sealer: TemplateSealer, model_id: str, rows: list[SealedRow], keys: Mapping[str, WrappedKey]
) -> TemplateBlock:
    """``rows`` (each of a person with a key in ``keys``) opened, in their order."""
    opened = sealer.open_rows(model_id, rows, keys)
    return TemplateBlock(tuple(map(itemgetter(0), rows)), list(map(itemgetter(1), rows)), opened)


def open_templates(
    uow: UnitOfWork,
    sealer: TemplateSealer,
    model_id: str,
    index: Sequence[tuple[str, str]],
    cache: TemplateCache | None = None,
) -> tuple[list[str], FloatArray]:
    """The people and descriptors of the templates ``index`` names, ``(template id, person id)``.

    Those ``cache`` (default: the process's) decrypted already are taken from it; the
    others are read and opened in bulk (one key unwrapped per person), and not kept.
    Templates of people without a data key (erased) are left out.

    Returns:
        Person ids and a ``(k, 128)`` float32 matrix of their descriptors, row by row.

    Raises:
        KeyFileError: a template does not decrypt with the site key.
    """
    people, found, missing = (cache or TEMPLATES).held(sealer, model_id, index)
    if not missing:
        return people, found
    with collector_paused():
        opened = _open(uow, sealer, model_id, missing, len(index))
    return people + opened.people, np.concatenate((found, opened.matrix))


TEMPLATES = TemplateCache()
"""The process's template cache (one site key per process in practice)."""


def _same(kept: frozenset[str], usable: AbstractSet[str]) -> bool:
    """Whether the people are the same; the very set kept costs no walk of its ids.

    Every door of a version passes the same set (25,000 ids at a large site).
    """
    return kept is usable or kept == usable
