"""Digests of the access data's sections, so a delta leaves out the unchanged parts.

A section (:data:`~facegate.gate.access_wire.SECTIONS`: people, cards, PIN hashes,
passes, rules, alerts, home floors, presence) is one part, or, for the large keyed ones
(:data:`~facegate.gate.access_wire.BUCKETED`: people, cards, PIN hashes), 64 parts cut
by key (:func:`~facegate.gate.access_wire.bucket_of`). The server states, in a delta
(:mod:`facegate.gate.snapshot_delta`), each part it left out with the digest of that part
as it delivered it at the gate's version (:mod:`facegate.services.gallery_history`).
The gate reuses its own entries of a part only when the digest of what it holds is the
same; else it refuses the delta whole.

A digest is the SHA-256 (hex) of the part's JSON text exactly as the wire carries it
(:func:`~facegate.gate.access_wire.section_parts`): the server hashes the text it
sends, the gate the text of the part it holds (the same encoding of the same values in
the same order gives the same text). The gate computes a held part's digest only when a
delta first leaves that part out (for a bucketed section, one cut of the section by key
and one JSON encoding of the bucket), and keeps the digests of the parts it kept and
checked for the next snapshot, with its cut of each bucketed section by key (the buckets
a delta sent replace the held ones), so no later delta cuts a section again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from facegate.domain.policy import AccessData
from facegate.gate.access_wire import (
    BUCKETED,
    BUCKETS,
    SECTIONS,
    merged,
    section_parts,
    section_texts,
    split,
    value_text,
)


def text_digest(text: str) -> str:
    """SHA-256 (hex, 64 characters) of a part's JSON ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()


def kept_out(kept: Mapping[str, str]) -> dict[str, Any]:
    """The parts kept as the delta names them (compact: one digest per section).

    A section kept whole is ``name: digest``; a bucketed one with buckets kept is
    ``name: {"buckets": [b, ...], "digest": SHA-256 of those buckets' digests in order}``
    (so a delta names all 197 parts in about 1.3 kB, not 197 digests).
    """
    grouped: dict[str, list[tuple[int, str]]] = {}
    out: dict[str, Any] = {}
    for part, digest in kept.items():
        name, _, bucket = part.partition("/")
        if bucket:
            grouped.setdefault(name, []).append((int(bucket), digest))
        else:
            out[name] = digest
    for name, buckets in grouped.items():
        buckets.sort()
        out[name] = {
            "buckets": [b for b, _ in buckets],
            "digest": text_digest("".join(d for _, d in buckets)),
        }
    return out


def digests_of(texts: Mapping[str, str]) -> dict[str, str]:
    """The digest of each part's JSON text, by part."""
    return {part: text_digest(text) for part, text in texts.items()}


@dataclass(frozen=True, slots=True)
class Sections:
    """One snapshot's access sections as the server sends them, by part.

    Attributes:
        texts: each part's JSON text on the wire.
        digests: each part's digest.
    """

    texts: Mapping[str, str]
    digests: Mapping[str, str]

    @classmethod
    def of(cls, access: AccessData, memo: SectionMemo | None = None) -> Sections:
        """The parts of ``access`` (one JSON encoding and one SHA-256 of each).

        ``memo``: where the parts of the sections snapshots share are kept (the server's
        snapshot route); ``None``: every part made here.
        """
        if memo is None:
            every = section_texts(access)
            return cls(every, digests_of(every))
        texts: dict[str, str] = {}
        digests: dict[str, str] = {}
        for name in SECTIONS:
            made = memo.parts(access, name)
            texts.update(made.texts)
            digests.update(made.digests)
        return cls(texts, digests)


SHARED = frozenset({"people", "cards", "pins", "rules"})
"""Sections that the snapshots of one data version share as one object (all doors their
people; the doors of a rule set its rules, cards and PIN hashes: see
:mod:`facegate.services.snapshots`), large at a large site."""


class SectionMemo:
    """The parts of the :data:`SHARED` sections, made once per section object (thread-safe).

    At 25,000 residents encoding a snapshot's sections cost 60-150 ms CPU per door and
    request; most of it the people, the same for every door. Keyed by the identity of
    the section's value (the object is held with its parts, so its id stays its own;
    snapshots never change their sections in place); at most ``limit`` values kept,
    the oldest dropped first, so the values of past versions go.

    Args:
        limit: how many section values are kept (a version of 24 targets in four
            buildings uses about 20).
    """

    def __init__(self, limit: int = 64) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, int], tuple[object, Sections]] = OrderedDict()

    def parts(self, access: AccessData, name: str) -> Sections:
        """The texts and digests of ``access``'s section ``name``, by part."""
        if name not in SHARED:
            return _made(access, name)
        value = getattr(access, name)
        slot = (name, id(value))
        with self._lock:
            found = self._kept.get(slot)
            if found is not None and found[0] is value:
                self._kept.move_to_end(slot)
                return found[1]
        made = _made(access, name)  # outside the lock: two at once make it twice at worst
        with self._lock:
            self._kept[slot] = (value, made)
            while len(self._kept) > self._limit:
                self._kept.popitem(last=False)
        return made


def _made(access: AccessData, name: str) -> Sections:
    texts = section_parts(access, name)
    return Sections(texts, digests_of(texts))


class SectionDigests:
    """The digests of one access data's parts, each computed when first asked.

    Also the access data a delta is applied to (:class:`~.access_wire.HeldAccess`): its
    bucketed sections cut by key once, and the cut carried to the next snapshot with the
    buckets a delta replaced (so neither a digest nor a merge cuts a section again).

    Attributes:
        known: the digests known so far, by part.

    Args:
        access: the access data (its sections are never changed in place).
        known: digests already known, by part (see :meth:`carried_to`).
        buckets: bucketed sections already cut by key (:func:`split`), by name.
    """

    def __init__(
        self,
        access: AccessData,
        known: Mapping[str, str] | None = None,
        buckets: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.access = access
        self.known = dict(known or {})
        self._buckets: dict[str, Sequence[Mapping[str, Any]]] = dict(buckets or {})
        self._made: dict[str, tuple[Mapping[str, Any], Sequence[Mapping[str, Any]]]] = {}

    def buckets(self, name: str) -> Sequence[Mapping[str, Any]]:
        """The bucketed section ``name``'s entries by bucket (cut on first use)."""
        if name not in self._buckets:
            self._buckets[name] = split(getattr(self.access, name))
        return self._buckets[name]

    def of(self, part: str) -> str:
        """The digest of ``part`` (one of ``PARTS``: a section, or ``section/bucket``)."""
        if part not in self.known:
            name, _, bucket = part.partition("/")
            if name in BUCKETED:
                text = value_text(name, self.buckets(name)[int(bucket)])
            else:
                text = section_parts(self.access, name)[name]
            self.known[part] = text_digest(text)
        return self.known[part]

    def merged(self, name: str, sent: Mapping[str, Any], kept: Collection[int]) -> dict[str, Any]:
        """Section ``name`` held, its buckets ``kept`` as held, the others ``sent``'s.

        Its cut by key is carried with it (:meth:`carried_to`).

        Raises:
            ValueError: an entry sent in a bucket said to be kept.
        """
        section, buckets = merged(name, getattr(self.access, name), self.buckets(name), sent, kept)
        self._made[name] = (section, buckets)
        return section

    def checked(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """The parts a delta's ``raw`` ``"kept"`` names, each checked to be held here.

        Returns:
            The digest of each part kept, by part.

        Raises:
            ValueError: a part named that does not exist, or whose digest (for a
                bucketed section, the digest of its buckets' digests) is not held here.
        """
        kept: dict[str, str] = {}
        for name, stated in raw.items():
            if name not in SECTIONS:
                raise ValueError(f"a delta keeping an unknown section {name!r}")
            if name in BUCKETED:
                buckets = [int(b) for b in stated["buckets"]]
                if sorted(set(buckets)) != buckets or not set(buckets) <= set(range(BUCKETS)):
                    raise ValueError(f"a delta keeping buckets {buckets} of {name!r}")
                parts = {f"{name}/{b}": self.of(f"{name}/{b}") for b in buckets}
                same = text_digest("".join(parts.values())) == stated["digest"]
            else:
                parts = {name: self.of(name)}
                same = parts[name] == stated
            if not same:
                raise ValueError(f"the section {name!r} held here is not the server's")
            kept.update(parts)
        return kept

    def carried_to(
        self, access: AccessData, checked: Mapping[str, str] | None = None
    ) -> SectionDigests:
        """The digests for ``access``: ``checked``, and those known here it shares.

        ``checked``: the parts a delta kept (checked here); shared: the parts of the
        sections that are the same object in both.
        """
        known = {
            part: digest
            for part, digest in self.known.items()
            if getattr(access, part.partition("/")[0])
            is getattr(self.access, part.partition("/")[0])
        }
        buckets: dict[str, Sequence[Mapping[str, Any]]] = {}
        for name in BUCKETED:
            section = getattr(access, name)
            if section is getattr(self.access, name) and name in self._buckets:
                buckets[name] = self._buckets[name]
            elif name in self._made and self._made[name][0] is section:
                buckets[name] = self._made[name][1]
        return SectionDigests(access, {**known, **(checked or {})}, buckets)
