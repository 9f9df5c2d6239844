"""The access data of a snapshot on the wire (JSON), in sections and parts.

The access data (:class:`~facegate.domain.policy.AccessData`, less its gallery, which
:mod:`facegate.gate.snapshot_wire` lays out in binary) travels as the JSON members of
the body's ``"access"``: ``mode``, ``match``, ``identification`` and the sections
:data:`SECTIONS`. Each section is one part, or, for the large keyed ones
(:data:`BUCKETED`: people, cards, PIN hashes), :data:`BUCKETS` parts cut by key
(:func:`bucket_of`), so a delta (:mod:`facegate.gate.snapshot_delta`) sends only the
parts that changed; a whole snapshot's section is the join of its parts (the same JSON
an older reader expects).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, Protocol

from facegate.domain.access import AccessRule, AlertEntry, TimeWindow, WeeklySchedule
from facegate.domain.credentials import VisitorPass
from facegate.domain.impostors import ImpostorCurve
from facegate.domain.matching import (
    DEFAULT_COHORT_MARGIN,
    DEFAULT_COHORT_SHARE,
    Gallery,
    MatchPolicy,
)
from facegate.domain.passback import Presence
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode


def optional_id(value: Any) -> str | None:
    """``value`` as an id, or ``None``."""
    return None if value is None else str(value)


def when(value: datetime | None) -> str | None:
    """``value`` in ISO 8601, or ``None``."""
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


def merged(
    name: str,
    own: Mapping[str, Any],
    own_buckets: Sequence[Mapping[str, Any]],
    sent: Mapping[str, Any],
    kept: Collection[int],
) -> tuple[dict[str, Any], list[Mapping[str, Any]]]:
    """The bucketed section ``name`` held (``own``, cut as ``own_buckets``), a delta applied.

    The buckets ``kept`` stay as held; each other one is replaced by the entries ``sent``
    of it. Costs the entries sent and those held in the buckets they replace (and one
    copy of the dict), not a bucket per held key.

    Returns:
        The new section (the entries kept in their order, then those sent) and its
        buckets (:func:`split`'s of it).

    Raises:
        ValueError: an entry sent in a bucket said to be kept.
    """
    sent_buckets = split(sent)
    if any(sent_buckets[b] for b in kept):
        raise ValueError(f"entries of {name!r} sent in a bucket said to be kept")
    section = dict(own)
    for bucket in range(BUCKETS):
        if bucket not in kept:
            for key in own_buckets[bucket]:
                del section[key]
    section.update(sent)
    return section, [own_buckets[b] if b in kept else sent_buckets[b] for b in range(BUCKETS)]


class HeldAccess(Protocol):
    """The access data a delta is applied to, able to merge a bucketed section's parts."""

    @property
    def access(self) -> AccessData:
        """The access data held."""
        ...

    def merged(
        self, name: str, sent: Mapping[str, Any], kept: Collection[int]
    ) -> Mapping[str, Any]:
        """Section ``name`` held, its buckets ``kept`` as held, the others ``sent``'s.

        Raises:
            ValueError: an entry sent in a bucket said to be kept.
        """
        ...


def _people_out(people: Mapping[str, PersonAccess]) -> dict[str, list[Any]]:
    return {
        pid: [p.role.value, p.face_consent, when(p.face_consent_until), p.moved_out]
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


def members(parts: Mapping[str, str]) -> dict[str, str]:
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


def match_in(raw: dict[str, Any]) -> MatchPolicy:
    """The site's match policy, with the 1:N target and stranger curve it judges by.

    A snapshot without the face + card cohort rule (from a server before it) leaves the
    gate's default rule in force, not none (the stricter reading).
    """
    identification = raw["identification"]
    margin, share = raw.get("cohort", [DEFAULT_COHORT_MARGIN, DEFAULT_COHORT_SHARE])
    return MatchPolicy(
        float(raw["match"][0]),
        float(raw["match"][1]),
        float(identification["max_fpir"]),
        ImpostorCurve.from_json(identification["impostors"]),
        None if margin is None else float(margin),
        float(share),
    )


def access_in(
    raw: dict[str, Any],
    gallery: Gallery,
    held: HeldAccess | None = None,
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
            sections[name] = getattr(held.access, name)
        else:  # KeyError (malformed) unless absent from earlier servers' snapshots
            sections[name] = _SECTION_IN[name](json.loads(_SECTION_DEFAULT[name]))
    return AccessData(SiteMode(raw["mode"]), gallery=gallery, match=match_in(raw), **sections)


def _bucketed_in(
    name: str, raw: dict[str, Any], held: HeldAccess | None, kept: Collection[str]
) -> Mapping[str, Any]:
    """Section ``name``: the entries sent, and ``held``'s entries of the buckets kept."""
    buckets = {b for b in range(BUCKETS) if f"{name}/{b}" in kept}
    if not buckets or held is None:
        return dict(_SECTION_IN[name](raw[name]))
    if len(buckets) == BUCKETS and name not in raw:
        kept_all: Mapping[str, Any] = getattr(held.access, name)
        return kept_all  # all kept: the same object (and no cut by key)
    sent = _SECTION_IN[name](raw[name]) if name in raw else {}
    return held.merged(name, sent, buckets)


def _pass_out(p: VisitorPass) -> list[Any]:
    start, end = when(p.valid_from), when(p.valid_until)
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
        optional_id(raw.get("building_id")),
    )


def _alert_out(a: AlertEntry) -> list[Any]:
    added, expires = when(a.added_at), when(a.expires_at)
    return [a.id, a.person_id, a.reason, a.legal_basis, a.added_by, added, expires]


def _alert_in(v: list[Any]) -> AlertEntry:
    added, expires = datetime.fromisoformat(v[5]), datetime.fromisoformat(v[6])
    return AlertEntry(str(v[0]), str(v[1]), str(v[2]), str(v[3]), str(v[4]), added, expires)
