"""Digests of the access data's sections, so a delta leaves out the unchanged ones.

The server states, in a delta (:mod:`facegate.gate.snapshot_delta`), each section it
left out (:data:`~facegate.gate.snapshot_wire.SECTIONS`: people, cards, PIN hashes,
passes, rules, alerts, home floors, presence) with the digest of the section the gate
holds according to the server's memory of the version it delivered
(:mod:`facegate.services.gallery_history`). The gate reuses its own section only when
the digest of what it holds is the same; else it refuses the delta whole.

A digest is the SHA-256 (hex) of the section's JSON text exactly as the wire carries it
(:func:`~facegate.gate.snapshot_wire.section_text`): the server hashes the text it
sends, the gate the text of the section it holds (the same encoding of the same
values gives the same text). The gate computes a held section's digest only when a
delta leaves that section out (one JSON encoding of it, e.g. tens of milliseconds for
25,000 PIN hashes), and keeps it while the section object stays the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from facegate.domain.policy import AccessData
from facegate.gate.snapshot_wire import section_text, section_texts


def text_digest(text: str) -> str:
    """SHA-256 (hex, 64 characters) of a section's JSON ``text``."""
    return hashlib.sha256(text.encode()).hexdigest()


def digests_of(texts: Mapping[str, str]) -> dict[str, str]:
    """The digest of each section's JSON text, by name."""
    return {name: text_digest(text) for name, text in texts.items()}


@dataclass(frozen=True, slots=True)
class Sections:
    """One snapshot's access sections as the server sends them.

    Attributes:
        texts: each section's JSON text on the wire, by name.
        digests: each section's digest, by name.
    """

    texts: Mapping[str, str]
    digests: Mapping[str, str]

    @classmethod
    def of(cls, access: AccessData) -> Sections:
        """The sections of ``access`` (one JSON encoding and one SHA-256 of each)."""
        texts = section_texts(access)
        return cls(texts, digests_of(texts))


class SectionDigests:
    """The digests of one access data's sections, each computed when first asked.

    Args:
        access: the access data (its sections are never changed in place).
        known: digests already known, by section name (see :meth:`carried_to`).
    """

    def __init__(self, access: AccessData, known: Mapping[str, str] | None = None) -> None:
        self.access = access
        self._known = dict(known or {})

    def of(self, name: str) -> str:
        """The digest of section ``name`` (one of ``SECTIONS``)."""
        if name not in self._known:
            self._known[name] = text_digest(section_text(self.access, name))
        return self._known[name]

    def carried_to(self, access: AccessData) -> SectionDigests:
        """The digests for ``access``: those known here of the sections it shares (same object)."""
        known = {
            name: digest
            for name, digest in self._known.items()
            if getattr(access, name) is getattr(self.access, name)
        }
        return SectionDigests(access, known)
