"""The snapshot delta on the wire (wire format 3): one version to the next, gallery by id.

A gate that holds version ``B`` and can apply a delta asks with ``If-None-Match: "B"``
and :data:`DELTA_HEADER` ``: 3``. When the server knows which templates ``B``'s gallery
held (:mod:`facegate.services.gallery_history`), it answers the new version ``V`` as::

    {"wire_format": 3, "format": 1, "version": "V", "base_version": "B", "built_at": ...,
     "gate_id": "...", "target_id": "...", "sealed": "<base64>"}

sealed exactly as a whole snapshot (:mod:`facegate.gate.snapshot_wire`: the same per-gate
key, the clear part as associated data, ``base_version`` included, so a delta cannot be
applied to another base nor replayed to another gate). The opened body is wire format
2's, but the parts of the access data's sections (:data:`~facegate.gate.access_wire.PARTS`:
a section, or one of the 64 buckets of people, cards or PIN hashes) that are the same as
at ``B`` are left out and named, with their digest, in ``"kept": {"rules": "<sha-256
hex>", "pins": {"buckets": [0, 1, ...], "digest": ...}, ...}``
(:mod:`facegate.gate.snapshot_sections`, :func:`~.snapshot_sections.kept_out`; a section with a
part sent carries the entries of its parts sent: an enrolment sends the new person's
bucket of people, an erasure the buckets of the person's entry, card and PIN), and in
place of the gallery only the templates added since ``B`` (ids, people and values, as
format 2 lays a gallery out) and::

    "gallery": {"people": [...], "rows": r, "ids": [...],
                "removed": [template ids], "total": templates after applying,
                "digest": gallery_digest of the gallery after applying}

The gate applies it to what it holds into a new snapshot (:func:`open_delta`) or
refuses it whole (another base, gate, key, door or model; a kept part whose digest is
not that of the part it holds; a removed id it does not hold, an added one it
does; a total or a gallery digest that does not come out): it then asks for the whole
snapshot, and never decides from a half-applied delta.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from facegate.domain.gallery_delta import GalleryDelta, apply_delta, gallery_delta
from facegate.domain.gate import GateSnapshot
from facegate.gate.access_wire import PARTS
from facegate.gate.snapshot_sections import SectionDigests, Sections, kept_out
from facegate.gate.snapshot_wire import (
    MALFORMED,
    gallery_in,
    gallery_part,
    header_of,
    open_body,
    seal_body,
    sealed_of,
    snapshot_of,
    wire_object,
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
    sealed = seal_body(header, snapshot, part, tail, key, _DELTA_AAD, sent, kept_out(kept))
    return wire_object(header, sealed)


def open_delta(
    raw: dict[str, Any],
    base: GateSnapshot,
    gate_id: str,
    key: bytes,
    held: SectionDigests | None = None,
) -> tuple[GateSnapshot, SectionDigests]:
    """The snapshot ``raw`` makes of ``base``, and the digests known of its parts.

    The delta is checked, unsealed and applied (``base`` kept); the digests known are
    those of the parts it kept (checked here).

    ``held``: the digests of ``base``'s parts known so far (computed as needed).

    Raises:
        DeltaRefusedError: not a delta of ``base`` (another base version, door or model),
            a kept part is not the one ``base`` holds, or its gallery change does not
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
        body, tail = open_body(raw, sealed_of(raw), gate_id, key, DELTA_WIRE_FORMAT, _DELTA_AAD)
        if (body["target"]["id"], body["model_id"]) != (base.target.id, base.model_id):
            raise DeltaRefusedError("a delta of another door, lift or model")
        access = body["access"]
        kept = _checked_kept(access, held)
        part = access["gallery"]
        added = gallery_in(part, tail)
        removed = tuple(str(t) for t in part["removed"])
        delta = GalleryDelta(removed, added, int(part["total"]), str(part["digest"]))
        gallery = apply_delta(base.access.gallery, delta)
        snapshot = snapshot_of(raw, body, gallery, held, kept)
    except MALFORMED as err:
        raise ValueError(f"malformed snapshot delta: {err!r}") from err
    return snapshot, held.carried_to(snapshot.access, kept)


def _checked_kept(access: dict[str, Any], held: SectionDigests) -> dict[str, str]:
    """The parts kept, each checked to be the one held (by digest); the others are sent.

    Raises:
        DeltaRefusedError: a part neither sent nor kept, or kept but not held here (or
            not a part at all).
    """
    try:
        kept = held.checked(access.get("kept", {}))
    except ValueError as err:
        raise DeltaRefusedError(str(err)) from err
    for part in PARTS:
        if part not in kept and part.partition("/")[0] not in access:
            raise DeltaRefusedError(f"a delta without the part {part!r}")
    return kept
