"""The snapshot's wire format between the site server and a gate over HTTP.

A JSON object whose clear part says only what the gate needs to check it::

    {"wire_format": 2, "format": 1, "version": "...", "built_at": "...",
     "gate_id": "...", "target_id": "...", "sealed": "<base64>"}

``sealed`` is AES-256-GCM (12-byte nonce first) over the body: the target and the
access data (people, gallery templates, cards, PIN hashes, passes, rules, alerts). Its
key is derived per gate from the gate's device key (HKDF-SHA256, salt
``facegate-snapshot-v1``, info the gate id), and the clear part is its associated
data, so a snapshot cannot be replayed to another gate or under another version.
Templates therefore never travel in clear text, even where TLS ends at a proxy that logs
bodies; TLS is still required, since the device key travels in the request header.

The opened body (wire format 2) is binary, so a gallery of thousands of templates costs
4 bytes a value, not a Python float each::

    u32 LE  n, the length of the JSON part
    n bytes JSON (target and access data; the gallery as {"people": [...], "rows": r,
            "ids": [...]}, "ids" each row's template id), padded with spaces to a
            multiple of 4
    r x u32 LE   each template's person, a position in "people"
    r x 128 x f32 LE   the templates, row by row (exactly the gallery's float32 values)

Wire format 1 (before 2026-11) held every template as a JSON list of floats; a gate
refuses a snapshot of another wire format (:class:`WireFormatError`), whether it comes
from the upstream or from its snapshot file. The gallery's ``"ids"`` came later within
format 2 (older readers ignore them; a snapshot without them is read without ids, and its
gate then takes no delta). The delta from one version to the next (wire format 3) is in
:mod:`facegate.gate.snapshot_delta`; the pieces here (:func:`header_of`,
:func:`gallery_part`, :func:`seal_body`, :func:`wire_object`, :func:`sealed_of`,
:func:`open_body`, :func:`snapshot_of`) serve
both, and the gate's snapshot file (:mod:`facegate.gate.snapshot_file`). The access
data's JSON, in sections and parts, is :mod:`facegate.gate.access_wire`'s.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import struct
from collections.abc import Collection, Mapping
from datetime import datetime, time
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facegate.domain.errors import FacegateError
from facegate.domain.gate import GateSnapshot
from facegate.domain.matching import DESCRIPTOR_SIZE, Gallery
from facegate.domain.passback import Direction, PassbackMode, ZoneDoor
from facegate.domain.policy import Target
from facegate.domain.site import CredentialKind, CredentialMode, DoorLiveness
from facegate.gate.access_wire import (
    HeldAccess,
    access_in,
    members,
    optional_id,
    section_texts,
    when,
)

WIRE_FORMAT = 2
"""Version of this wire format; a gate refuses another (1: templates as JSON floats)."""
_JSON_LENGTH = struct.Struct("<I")
_ROW_BYTES = 4 * DESCRIPTOR_SIZE
_SALT = b"facegate-snapshot-v1"
_HEADER = ("wire_format", "format", "version", "built_at", "gate_id", "target_id")


class WireFormatError(ValueError):
    """A snapshot of another wire format than this gate's :data:`WIRE_FORMAT`."""


def derive_gate_key(secret: bytes, gate_id: str, label: bytes) -> bytes:
    """A 32-byte key for ``gate_id`` from ``secret`` (HKDF-SHA256, salt ``label``).

    Each use has its own ``label``, so one secret never yields the same key twice.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=label, info=gate_id.encode())
    return hkdf.derive(secret)


def gate_wire_key(device_secret: str, gate_id: str) -> bytes:
    """The 32-byte key that seals ``gate_id``'s snapshots, from its device key."""
    return derive_gate_key(device_secret.encode(), gate_id, _SALT)


_MODE_SALT = b"facegate mode push v1"


def mode_push_key(device_secret: str, gate_id: str) -> bytes:
    """The 32-byte key that authenticates ``gate_id``'s pushed site modes."""
    return derive_gate_key(device_secret.encode(), gate_id, _MODE_SALT)


def mode_tag(key: bytes, gate_id: str, nonce: str, mode: str) -> str:
    """HMAC-SHA256 (hex) binding a pushed ``mode`` to the gate and the gate's ``nonce``.

    The gate sends a fresh nonce with each wait, so an answer cannot be replayed to it
    (an old ``free_passage`` answer) nor sent to another gate.
    """
    message = "\x1f".join((gate_id, nonce, mode)).encode()
    return hmac.new(key, message, "sha256").hexdigest()


def mode_tag_ok(key: bytes, gate_id: str, nonce: str, mode: str, tag: str) -> bool:
    """Whether ``tag`` is :func:`mode_tag`'s for these values (constant time)."""
    return hmac.compare_digest(mode_tag(key, gate_id, nonce, mode), tag)


def _aad(header: dict[str, Any], keys: tuple[str, ...]) -> bytes:
    return json.dumps({k: header[k] for k in keys}, sort_keys=True).encode()


def header_of(snapshot: GateSnapshot, gate_id: str, wire_format: int) -> dict[str, Any]:
    """The clear part of ``snapshot``'s wire object for ``gate_id`` (without ``sealed``)."""
    return {
        "wire_format": wire_format,
        "format": snapshot.format,
        "version": snapshot.version,
        "built_at": snapshot.built_at.isoformat(),
        "gate_id": gate_id,
        "target_id": snapshot.target.id,
    }


def gallery_part(gallery: Gallery) -> tuple[dict[str, Any], tuple[bytes, bytes]]:
    """``gallery``'s JSON part and its binary tail (labels, then the templates).

    The JSON part is ``{"people": [...], "rows": r}``, with ``"ids"`` (each row's
    template id) when the gallery knows them.
    """
    names, labels, matrix = gallery.as_index()
    part: dict[str, Any] = {"people": names, "rows": len(labels)}
    ids = gallery.template_ids()
    if ids is not None:
        part["ids"] = list(ids)
    return part, (labels.astype("<u4").tobytes(), matrix.astype("<f4").tobytes())


def seal_body(
    header: dict[str, Any],
    snapshot: GateSnapshot,
    gallery: dict[str, Any],
    tail: tuple[bytes, ...],
    key: bytes,
    keys: tuple[str, ...] = _HEADER,
    sections: Mapping[str, str] | None = None,
    kept: Mapping[str, str] | None = None,
) -> bytes:
    """The sealed body (12-byte nonce, then AES-256-GCM), ``keys`` of ``header`` as its AAD.

    The body is ``snapshot``'s target and access data with ``gallery`` as the
    gallery's JSON part, then the chunks of ``tail`` (see :func:`gallery_part`).
    ``sections``: the JSON texts of the access sections' parts to send (default: every
    one, :func:`section_texts`); ``kept``: the parts left out, by name, to their digests
    (a delta's, :mod:`facegate.gate.snapshot_delta`). On the wire it travels in base64
    (:func:`wire_object`); the gate's file holds it as is.
    """
    texts = members(section_texts(snapshot.access) if sections is None else sections)
    access = snapshot.access
    parts = {
        "mode": json.dumps(access.mode.value),
        "gallery": json.dumps(gallery),
        "match": json.dumps([access.match.threshold, access.match.min_margin]),
        "identification": json.dumps(
            {"max_fpir": access.match.max_fpir, "impostors": access.match.impostors.to_json()}
        ),
        "cohort": json.dumps([access.match.cohort_margin, access.match.cohort_share]),
        **texts,
    }
    if kept:
        parts["kept"] = json.dumps(dict(kept))
    body = {
        "site_id": json.dumps(snapshot.site_id),
        "model_id": json.dumps(snapshot.model_id),
        "target": json.dumps(_target_out(snapshot.target)),
        "access": _object_text(parts),
    }
    text = _object_text(body).encode()
    text += b" " * (-len(text) % 4)
    plain = b"".join((_JSON_LENGTH.pack(len(text)), text, *tail))
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plain, _aad(header, keys))


def wire_object(header: dict[str, Any], sealed: bytes) -> dict[str, Any]:
    """The JSON-ready wire object: ``header`` and the sealed body in base64 (``"sealed"``)."""
    return {**header, "sealed": base64.b64encode(sealed).decode("ascii")}


def _object_text(parts: Mapping[str, str]) -> str:
    """A JSON object's text from its members' names and their JSON texts."""
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in parts.items()) + "}"


def snapshot_to_wire(
    snapshot: GateSnapshot, gate_id: str, key: bytes, texts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``snapshot`` for ``gate_id`` as the JSON-ready wire object, sealed under ``key``.

    ``texts``: its access sections' JSON texts when already made (:func:`section_texts`).
    """
    gallery, tail = gallery_part(snapshot.access.gallery)
    header = header_of(snapshot, gate_id, WIRE_FORMAT)
    return wire_object(header, seal_body(header, snapshot, gallery, tail, key, sections=texts))


def open_body(
    raw: dict[str, Any],
    sealed: bytes | memoryview,
    gate_id: str,
    key: bytes,
    wire_format: int,
    keys: tuple[str, ...] = _HEADER,
) -> tuple[dict[str, Any], memoryview]:
    """The opened body: its JSON part and its binary tail.

    ``raw``: the clear header (the wire object, or the file's header); ``sealed``: the
    sealed body (:func:`sealed_of` a wire object; the file holds it as is).

    Raises:
        WireFormatError: ``raw`` is not of ``wire_format``.
        ValueError: for another gate, or does not open under ``key``.
        KeyError, TypeError, struct.error: malformed (callers translate them).
    """
    if raw["wire_format"] != wire_format:
        raise WireFormatError(
            f"snapshot of wire format {raw['wire_format']!r}, this gate reads {wire_format}"
        )
    if raw["gate_id"] != gate_id:
        raise ValueError(f"snapshot for gate {raw['gate_id']!r}, not {gate_id!r}")
    try:
        plain = AESGCM(key).decrypt(sealed[:12], sealed[12:], _aad(raw, keys))
    except InvalidTag as err:
        raise ValueError("the snapshot does not open under this gate's device key") from err
    (length,) = _JSON_LENGTH.unpack_from(plain, 0)
    body = json.loads(plain[_JSON_LENGTH.size : _JSON_LENGTH.size + length])
    return body, memoryview(plain)[_JSON_LENGTH.size + length :]


def sealed_of(raw: dict[str, Any]) -> bytes:
    """The sealed body of the wire object ``raw`` (its ``"sealed"``, base64).

    Raises:
        KeyError: no ``"sealed"``.
        ValueError: not base64.
    """
    return base64.b64decode(raw["sealed"], validate=True)


def snapshot_of(
    raw: dict[str, Any],
    body: dict[str, Any],
    gallery: Gallery,
    held: HeldAccess | None = None,
    kept: Collection[str] = (),
) -> GateSnapshot:
    """The snapshot of the checked header ``raw`` and opened ``body``, with ``gallery``.

    ``held``: the access data whose parts ``kept`` stand in for those ``body`` leaves
    out (a delta's, already checked by the caller).

    Raises:
        ValueError: ``body`` sends an entry of a bucket it says is kept.
    """
    return GateSnapshot(
        int(raw["format"]),
        str(raw["version"]),
        datetime.fromisoformat(raw["built_at"]),
        str(body["site_id"]),
        str(body["model_id"]),
        _target_in(body["target"]),
        access_in(body["access"], gallery, held, kept),
    )


MALFORMED = (KeyError, TypeError, AttributeError, IndexError, FacegateError, struct.error)
"""What a malformed wire object raises while it is read (translated to ``ValueError``)."""


def snapshot_from_wire(raw: dict[str, Any], gate_id: str, key: bytes) -> GateSnapshot:
    """The snapshot in ``raw``, checked and unsealed.

    Raises:
        ValueError: another wire format or gate, or a body that is malformed or does not
            open under ``key`` (tampered, or sealed for another device key).
    """
    try:
        body, tail = open_body(raw, sealed_of(raw), gate_id, key, WIRE_FORMAT)
        return snapshot_of(raw, body, gallery_in(body["access"]["gallery"], tail))
    except MALFORMED as err:
        raise ValueError(f"malformed snapshot: {err!r}") from err


def _target_out(target: Target) -> dict[str, Any]:
    return {
        "id": target.id,
        "accepted": sorted(target.accepted),
        "mode": target.mode.value,
        "floors": list(target.floors),
        "name": target.name,
        "building_id": target.building_id,
        "liveness": target.liveness.value,
        "zone": _zone_out(target.zone),
    }


def _zone_out(zone: ZoneDoor | None) -> dict[str, Any] | None:
    if zone is None:
        return None
    return {
        "zone": zone.zone,
        "direction": zone.direction.value,
        "mode": zone.mode.value,
        "reset_at": None if zone.reset_at is None else zone.reset_at.isoformat(),
        "time_zone": zone.time_zone,
        "cleared_at": when(zone.cleared_at),
    }


def _zone_in(raw: dict[str, Any] | None) -> ZoneDoor | None:
    if raw is None:  # no zone, or a snapshot of an earlier server
        return None
    reset, cleared = raw.get("reset_at"), raw.get("cleared_at")
    return ZoneDoor(
        str(raw["zone"]),
        Direction(raw["direction"]),
        PassbackMode(raw["mode"]),
        None if reset is None else time.fromisoformat(reset),
        str(raw["time_zone"]),
        None if cleared is None else datetime.fromisoformat(cleared),
    )


def _target_in(raw: dict[str, Any]) -> Target:
    accepted = frozenset(CredentialKind(k) for k in raw["accepted"])
    floors = tuple(int(f) for f in raw["floors"])
    name = str(raw.get("name", ""))  # absent from snapshots of earlier servers
    building = optional_id(raw.get("building_id"))
    mode = CredentialMode(raw["mode"])
    # Absent from snapshots of earlier servers: their doors had no setting (default).
    liveness = DoorLiveness(raw.get("liveness", DoorLiveness.DEFAULT.value))
    zone = _zone_in(raw.get("zone"))
    return Target(
        str(raw["id"]),
        accepted,
        mode,
        floors,
        name=name,
        building_id=building,
        zone=zone,
        liveness=liveness,
    )


def gallery_in(raw: dict[str, Any], tail: memoryview) -> Gallery:
    """The gallery from its JSON part and the binary tail (labels, then templates).

    Raises:
        ValueError: the tail is not exactly ``rows`` labels and templates, or they do
            not make a gallery (labels out of range, values not finite, template ids
            not one distinct id per row).
    """
    names, rows = [str(p) for p in raw["people"]], int(raw["rows"])
    if rows < 0 or len(tail) != rows * (4 + _ROW_BYTES):
        raise ValueError(f"gallery of {rows} templates in {len(tail)} bytes")
    labels = np.frombuffer(tail, dtype="<u4", count=rows)
    values = np.frombuffer(tail, dtype="<f4", count=rows * DESCRIPTOR_SIZE, offset=4 * rows)
    # One copy into native float32 (the gallery's own type), free of the opened bytes.
    matrix = values.reshape(rows, DESCRIPTOR_SIZE).astype(np.float32)
    ids = raw.get("ids")  # absent from snapshots of earlier servers: no delta then
    template_ids = None if ids is None else [str(t) for t in ids]
    return Gallery.from_index(names, labels.astype(np.int64), matrix, template_ids)
