"""The snapshot delta on the wire (wire format 3): one version to the next, gallery by id.

A gate that holds version ``B`` and can apply a delta asks with ``If-None-Match: "B"``
and :data:`DELTA_HEADER` ``: 3``. When the server knows which templates ``B``'s gallery
held (:mod:`facegate.services.gallery_history`), it answers the new version ``V`` as::

    {"wire_format": 3, "format": 1, "version": "V", "base_version": "B", "built_at": ...,
     "gate_id": "...", "target_id": "...", "sealed": "<base64>"}

sealed exactly as a whole snapshot (:mod:`facegate.gate.snapshot_wire`: the same per-gate
key, the clear part as associated data, ``base_version`` included, so a delta cannot be
applied to another base nor replayed to another gate). The opened body is wire format
2's, but the access data's sections (:data:`~facegate.gate.snapshot_wire.SECTIONS`)
that are the same as at ``B`` are left out and named, with their digest, in
``"kept": {"cards": "<sha-256 hex>", ...}`` (:mod:`facegate.gate.snapshot_sections`;
an enrolment sends the people, an erasure the people, cards and PIN hashes), and in
place of the gallery only the templates added since ``B`` (ids, people and values, as
format 2 lays a gallery out) and::

    "gallery": {"people": [...], "rows": r, "ids": [...],
                "removed": [template ids], "total": templates after applying,
                "digest": gallery_digest of the gallery after applying}

The gate applies it to what it holds into a new snapshot (:func:`delta_from_wire`) or
refuses it whole (another base, gate, key, door or model; a kept section whose digest
is not that of the section it holds; a removed id it does not hold, an added one it
does; a total or a gallery digest that does not come out): it then asks for the whole
snapshot, and never decides from a half-applied delta.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from facegate.domain.gallery_delta import GalleryDelta, apply_delta, gallery_delta
from facegate.domain.gate import GateSnapshot
from facegate.gate.snapshot_sections import SectionDigests, Sections
from facegate.gate.snapshot_wire import (
    MALFORMED,
    SECTIONS,
    gallery_in,
    gallery_part,
    header_of,
    open_body,
    seal_body,
    snapshot_of,
)

DELTA_WIRE_FORMAT = 3
"""Wire format of a delta (the whole snapshot is :data:`~.snapshot_wire.WIRE_FORMAT`)."""
DELTA_HEADER = "X-Facegate-Delta"
"""Request header by which a gate says it can apply a delta (value: its delta format)."""
_DELTA_AAD = (
    "wire_format",
    "format",
    "version",
    "base_version",
    "built_at",
    "gate_id",
    "target_id",
)


class DeltaRefusedError(ValueError):
    """A delta this gate cannot apply to what it holds (it asks for the whole snapshot)."""


def delta_to_wire(
    snapshot: GateSnapshot,
    base_version: str,
    base_ids: Sequence[str],
    gate_id: str,
    key: bytes,
    base_sections: Mapping[str, str] | None = None,
    sections: Sections | None = None,
) -> dict[str, Any]:
    """``snapshot`` as the change from ``base_version`` (gallery ``base_ids``), sealed.

    ``base_sections``: the digests of the access sections delivered at ``base_version``
    (those unchanged are left out; ``None``: every section is sent). ``sections``: the
    snapshot's, when already made (:meth:`Sections.of`).

    Raises:
        ValueError: the snapshot's gallery has no template ids.
    """
    delta = gallery_delta(base_ids, snapshot.access.gallery)
    sections = Sections.of(snapshot.access) if sections is None else sections
    base_sections = base_sections or {}
    kept = {
        name: digest
        for name, digest in sections.digests.items()
        if base_sections.get(name) == digest
    }
    sent = {name: text for name, text in sections.texts.items() if name not in kept}
    header = {**header_of(snapshot, gate_id, DELTA_WIRE_FORMAT), "base_version": base_version}
    part, tail = gallery_part(delta.added)
    part = {**part, "removed": list(delta.removed), "total": delta.total, "digest": delta.digest}
    return seal_body(header, snapshot, part, tail, key, _DELTA_AAD, sent, kept)


def delta_from_wire(
    raw: dict[str, Any],
    base: GateSnapshot,
    gate_id: str,
    key: bytes,
    held: SectionDigests | None = None,
) -> GateSnapshot:
    """The snapshot ``raw`` makes of ``base``, checked, unsealed and applied (``base`` kept).

    ``held``: the digests of ``base``'s sections known so far (computed as needed).

    Raises:
        DeltaRefusedError: not a delta of ``base`` (another base version, door or model),
            a kept section is not the one ``base`` holds, or its gallery change does not
            fit ``base``'s gallery.
        ValueError: another wire format or gate, or a body that is malformed or does not
            open under ``key``.
    """
    if raw.get("base_version") != base.version:
        raise DeltaRefusedError(
            f"a delta from version {raw.get('base_version')!r}, this gate holds {base.version!r}"
        )
    held = SectionDigests(base.access) if held is None or held.access is not base.access else held
    try:
        body, tail = open_body(raw, gate_id, key, DELTA_WIRE_FORMAT, _DELTA_AAD)
        if (body["target"]["id"], body["model_id"]) != (base.target.id, base.model_id):
            raise DeltaRefusedError("a delta of another door, lift or model")
        access = body["access"]
        _check_kept(access, held)
        part = access["gallery"]
        added = gallery_in(part, tail)
        removed = tuple(str(t) for t in part["removed"])
        delta = GalleryDelta(removed, added, int(part["total"]), str(part["digest"]))
        return snapshot_of(raw, body, apply_delta(base.access.gallery, delta), base.access)
    except MALFORMED as err:
        raise ValueError(f"malformed snapshot delta: {err!r}") from err


def _check_kept(access: dict[str, Any], held: SectionDigests) -> None:
    """Every section is sent or kept, and each kept one is the one held (by digest).

    Raises:
        DeltaRefusedError: a section neither sent nor kept, or kept but not held.
    """
    kept = access.get("kept", {})
    for name in SECTIONS:
        if name in access:
            continue
        if name not in kept:
            raise DeltaRefusedError(f"a delta without the section {name!r}")
        if held.of(name) != kept[name]:
            raise DeltaRefusedError(f"the section {name!r} held here is not the server's")
