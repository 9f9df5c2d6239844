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
checked for the next snapshot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from facegate.domain.policy import AccessData
from facegate.gate.access_wire import (
    BUCKETED,
    BUCKETS,
    SECTIONS,
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
    def of(cls, access: AccessData) -> Sections:
        """The parts of ``access`` (one JSON encoding and one SHA-256 of each)."""
        texts = section_texts(access)
        return cls(texts, digests_of(texts))


class SectionDigests:
    """The digests of one access data's parts, each computed when first asked.

    Attributes:
        known: the digests known so far, by part.

    Args:
        access: the access data (its sections are never changed in place).
        known: digests already known, by part (see :meth:`carried_to`).
    """

    def __init__(self, access: AccessData, known: Mapping[str, str] | None = None) -> None:
        self.access = access
        self.known = dict(known or {})
        self._buckets: dict[str, list[dict[str, Any]]] = {}

    def of(self, part: str) -> str:
        """The digest of ``part`` (one of ``PARTS``: a section, or ``section/bucket``)."""
        if part not in self.known:
            name, _, bucket = part.partition("/")
            if name in BUCKETED:
                if name not in self._buckets:
                    self._buckets[name] = split(getattr(self.access, name))
                text = value_text(name, self._buckets[name][int(bucket)])
            else:
                text = section_parts(self.access, name)[name]
            self.known[part] = text_digest(text)
        return self.known[part]

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
        return SectionDigests(access, {**known, **(checked or {})})
