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
:func:`gallery_part`, :func:`seal_body`, :func:`open_body`, :func:`snapshot_of`) serve
both.
"""

from __future__ import annotations

import base64
import hmac
import json
import os
import struct
import zlib
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, time
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facegate.domain.access import AccessRule, AlertEntry, TimeWindow, WeeklySchedule
from facegate.domain.credentials import VisitorPass
from facegate.domain.errors import FacegateError
from facegate.domain.gate import GateSnapshot
from facegate.domain.impostors import ImpostorCurve
from facegate.domain.matching import DESCRIPTOR_SIZE, Gallery, MatchPolicy
from facegate.domain.passback import Direction, PassbackMode, Presence, ZoneDoor
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind, CredentialMode, DoorLiveness

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
) -> dict[str, Any]:
    """The wire object: ``header`` and the sealed body, ``keys`` of ``header`` as its AAD.

    The body is ``snapshot``'s target and access data with ``gallery`` as the
    gallery's JSON part, then the chunks of ``tail`` (see :func:`gallery_part`).
    ``sections``: the JSON texts of the access sections' parts to send (default: every
    one, :func:`section_texts`); ``kept``: the parts left out, by name, to their digests
    (a delta's, :mod:`facegate.gate.snapshot_delta`).
    """
    sealed = seal_plain(header, snapshot, gallery, tail, key, keys, sections, kept)
    return {**header, "sealed": base64.b64encode(sealed).decode("ascii")}


def seal_plain(
    header: dict[str, Any],
    snapshot: GateSnapshot,
    gallery: dict[str, Any],
    tail: tuple[bytes, ...],
    key: bytes,
    keys: tuple[str, ...] = _HEADER,
    sections: Mapping[str, str] | None = None,
    kept: Mapping[str, str] | None = None,
) -> bytes:
    """:func:`seal_body`'s sealed bytes (12-byte nonce, then AES-256-GCM), not base64'd."""
    texts = _members(section_texts(snapshot.access) if sections is None else sections)
    access = snapshot.access
    parts = {
        "mode": json.dumps(access.mode.value),
        "gallery": json.dumps(gallery),
        "match": json.dumps([access.match.threshold, access.match.min_margin]),
        "identification": json.dumps(
            {"max_fpir": access.match.max_fpir, "impostors": access.match.impostors.to_json()}
        ),
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


def _members(parts: Mapping[str, str]) -> dict[str, str]:
    """The access data's members from the texts of its sections' parts (buckets joined)."""
    grouped: dict[str, list[str]] = {}
    for part, text in parts.items():
        grouped.setdefault(part.partition("/")[0], []).append(text)
    return {
        name: "{" + ", ".join(t[1:-1] for t in texts if t != "{}") + "}"
        if name in BUCKETED
        else texts[0]
        for name, texts in grouped.items()
    }


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
    return seal_body(header, snapshot, gallery, tail, key, sections=texts)


def open_body(
    raw: dict[str, Any],
    gate_id: str,
    key: bytes,
    wire_format: int,
    keys: tuple[str, ...] = _HEADER,
) -> tuple[dict[str, Any], memoryview]:
    """The opened body of the wire object ``raw``: its JSON part and its binary tail.

    Raises:
        WireFormatError: ``raw`` is not of ``wire_format``.
        ValueError: for another gate, or does not open under ``key``.
        KeyError, TypeError, struct.error: malformed (callers translate them).
    """
    sealed = base64.b64decode(raw["sealed"], validate=True)
    return open_plain(raw, sealed, gate_id, key, wire_format, keys)


def open_plain(
    raw: dict[str, Any],
    sealed: bytes | memoryview,
    gate_id: str,
    key: bytes,
    wire_format: int,
    keys: tuple[str, ...] = _HEADER,
) -> tuple[dict[str, Any], memoryview]:
    """:func:`open_body` of the clear header ``raw`` and the sealed bytes ``sealed``."""
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


def snapshot_of(
    raw: dict[str, Any],
    body: dict[str, Any],
    gallery: Gallery,
    held: AccessData | None = None,
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
        _access_in(body["access"], gallery, held, kept),
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
        body, tail = open_body(raw, gate_id, key, WIRE_FORMAT)
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
        "cleared_at": _when(zone.cleared_at),
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


def _optional_id(value: Any) -> str | None:
    return None if value is None else str(value)


def _target_in(raw: dict[str, Any]) -> Target:
    accepted = frozenset(CredentialKind(k) for k in raw["accepted"])
    floors = tuple(int(f) for f in raw["floors"])
    name = str(raw.get("name", ""))  # absent from snapshots of earlier servers
    building = _optional_id(raw.get("building_id"))
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


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


SECTIONS = ("people", "cards", "pins", "passes", "rules", "alerts", "home_floors", "presence")
"""The access data's sections a delta may leave out when unchanged (each an attribute
of :class:`AccessData` and a member of the body's ``"access"`` of that name)."""
BUCKETED = frozenset({"people", "cards", "pins"})
"""Sections keyed by a string and large at a large site: each is cut into
:data:`BUCKETS` parts by key (:func:`bucket_of`), so a delta sends only the parts that
changed (an erasure: the buckets of one person's entry, card and PIN)."""
BUCKETS = 64
"""Parts of a bucketed section (fixed: the server and the gate must cut alike)."""
PARTS = tuple(
    part
    for name in SECTIONS
    for part in ([f"{name}/{b}" for b in range(BUCKETS)] if name in BUCKETED else [name])
)
"""Every part of the access sections: a section's name, or ``name/bucket``."""


def bucket_of(key: str) -> int:
    """The bucket of an entry of a bucketed section: CRC-32 of its key, modulo BUCKETS."""
    return zlib.crc32(key.encode()) % BUCKETS


def split(value: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A bucketed section's entries by bucket (each bucket in the section's order)."""
    buckets: list[dict[str, Any]] = [{} for _ in range(BUCKETS)]
    for key, entry in value.items():
        buckets[bucket_of(key)][key] = entry
    return buckets


def _people_out(people: Mapping[str, PersonAccess]) -> dict[str, list[Any]]:
    return {
        pid: [p.role.value, p.face_consent, _when(p.face_consent_until), p.moved_out]
        for pid, p in people.items()
    }


def _people_in(raw: dict[str, Any]) -> dict[str, PersonAccess]:
    return {
        str(pid): PersonAccess(
            Role(v[0]), bool(v[1]), datetime.fromisoformat(v[2]) if v[2] else None, bool(v[3])
        )
        for pid, v in raw.items()
    }


def _texts_in(raw: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()}


_SECTION_OUT: dict[str, Callable[[Any], Any]] = {
    "people": _people_out,
    "cards": dict,
    "pins": dict,
    "passes": lambda passes: [_pass_out(p) for p in passes.values()],
    "rules": lambda rules: [_rule_out(r) for r in rules],
    "alerts": lambda alerts: [_alert_out(a) for a in alerts],
    "home_floors": dict,
    "presence": lambda presence: {
        pid: [p.inside, p.since.isoformat()] for pid, p in presence.items()
    },
}
_SECTION_IN: dict[str, Callable[[Any], Any]] = {
    "people": _people_in,
    "cards": _texts_in,
    "pins": _texts_in,
    "passes": lambda raw: {p.code_hash: p for p in (_pass_in(v) for v in raw)},
    "rules": lambda raw: tuple(_rule_in(r) for r in raw),
    "alerts": lambda raw: tuple(_alert_in(a) for a in raw),
    "home_floors": lambda raw: {str(k): int(v) for k, v in raw.items()},
    "presence": lambda raw: {
        str(k): Presence(bool(v[0]), datetime.fromisoformat(v[1])) for k, v in raw.items()
    },
}
_SECTION_DEFAULT = {"home_floors": "{}", "presence": "{}"}
"""Sections absent from snapshots of earlier servers, and what their absence means."""


def value_text(name: str, value: Any) -> str:
    """The JSON text of ``value`` (section ``name``'s value, or one of its buckets)."""
    return json.dumps(_SECTION_OUT[name](value))


def section_parts(access: AccessData, name: str) -> dict[str, str]:
    """The JSON texts of ``access``'s section ``name`` by part (see :data:`PARTS`)."""
    value = getattr(access, name)
    if name not in BUCKETED:
        return {name: value_text(name, value)}
    return {f"{name}/{b}": value_text(name, sub) for b, sub in enumerate(split(value))}


def section_texts(access: AccessData) -> dict[str, str]:
    """Every part of ``access``'s sections (:data:`PARTS`), as its JSON text on the wire."""
    return {part: text for name in SECTIONS for part, text in section_parts(access, name).items()}


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


def _match_in(raw: dict[str, Any]) -> MatchPolicy:
    """The site's match policy, with the 1:N target and stranger curve it judges by."""
    identification = raw["identification"]
    return MatchPolicy(
        float(raw["match"][0]),
        float(raw["match"][1]),
        float(identification["max_fpir"]),
        ImpostorCurve.from_json(identification["impostors"]),
    )


def _access_in(
    raw: dict[str, Any],
    gallery: Gallery,
    held: AccessData | None = None,
    kept: Collection[str] = (),
) -> AccessData:
    """The access data of the body's ``raw``; a part it leaves out (``kept``) is ``held``'s."""
    sections: dict[str, Any] = {}
    for name in SECTIONS:
        if name in BUCKETED:
            sections[name] = _bucketed_in(name, raw, held, kept)
        elif name in raw:
            sections[name] = _SECTION_IN[name](raw[name])
        elif held is not None and name in kept:
            sections[name] = getattr(held, name)
        else:  # KeyError (malformed) unless absent from earlier servers' snapshots
            sections[name] = _SECTION_IN[name](json.loads(_SECTION_DEFAULT[name]))
    return AccessData(SiteMode(raw["mode"]), gallery=gallery, match=_match_in(raw), **sections)


def _bucketed_in(
    name: str, raw: dict[str, Any], held: AccessData | None, kept: Collection[str]
) -> Mapping[str, Any]:
    """Section ``name``: the entries sent, and ``held``'s entries of the buckets kept."""
    buckets = {b for b in range(BUCKETS) if f"{name}/{b}" in kept}
    if not buckets or held is None:
        return dict(_SECTION_IN[name](raw[name]))
    if len(buckets) == BUCKETS and name not in raw:
        kept_all: Mapping[str, Any] = getattr(held, name)
        return kept_all  # all kept: the same object (and no cut by key)
    sent = _SECTION_IN[name](raw[name]) if name in raw else {}
    if any(bucket_of(key) in buckets for key in sent):
        raise ValueError(f"entries of {name!r} sent in a bucket said to be kept")
    own = getattr(held, name)
    return {**{k: v for k, v in own.items() if bucket_of(k) in buckets}, **sent}


def _pass_out(p: VisitorPass) -> list[Any]:
    start, end = _when(p.valid_from), _when(p.valid_until)
    return [p.id, p.host_id, p.visitor_name, start, end, p.max_uses, p.code_hash, p.uses]


def _pass_in(v: list[Any]) -> VisitorPass:
    start, end = datetime.fromisoformat(v[3]), datetime.fromisoformat(v[4])
    return VisitorPass(str(v[0]), str(v[1]), str(v[2]), start, end, int(v[5]), str(v[6]), int(v[7]))


def _rule_out(rule: AccessRule) -> dict[str, Any]:
    schedule = rule.schedule
    return {
        "id": rule.id,
        "time_zone": schedule.time_zone,
        "windows": [
            [sorted(w.weekdays), w.start.isoformat(), w.end.isoformat()] for w in schedule.windows
        ],
        "closed_days": sorted(d.isoformat() for d in schedule.closed_days),
        "person_id": rule.person_id,
        "role": rule.role.value if rule.role is not None else None,
        "door_ids": sorted(rule.door_ids),
        "floors": sorted(rule.floors),
        "building_id": rule.building_id,
    }


def _rule_in(raw: dict[str, Any]) -> AccessRule:
    windows = tuple(
        TimeWindow(
            frozenset(int(d) for d in w[0]), time.fromisoformat(w[1]), time.fromisoformat(w[2])
        )
        for w in raw["windows"]
    )
    closed = frozenset(date.fromisoformat(d) for d in raw["closed_days"])
    return AccessRule(
        str(raw["id"]),
        WeeklySchedule(str(raw["time_zone"]), windows, closed),
        raw["person_id"],
        Role(raw["role"]) if raw["role"] is not None else None,
        frozenset(str(d) for d in raw["door_ids"]),
        frozenset(int(f) for f in raw["floors"]),
        _optional_id(raw.get("building_id")),
    )


def _alert_out(a: AlertEntry) -> list[Any]:
    added, expires = _when(a.added_at), _when(a.expires_at)
    return [a.id, a.person_id, a.reason, a.legal_basis, a.added_by, added, expires]


def _alert_in(v: list[Any]) -> AlertEntry:
    added, expires = datetime.fromisoformat(v[5]), datetime.fromisoformat(v[6])
    return AlertEntry(str(v[0]), str(v[1]), str(v[2]), str(v[3]), str(v[4]), added, expires)
