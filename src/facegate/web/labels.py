"""What the console shows for stored values: enum values in the page's language, names for ids.

Every enum a page shows goes through :func:`enum_key` (one table, here), so a Chinese
page never shows ``any_of`` or ``entrance``; an id goes through
:class:`facegate.services.names.Names`, and one nobody has a name for (an erased person,
a rule) shows as "a removed record", never as the id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from facegate.domain.accounts import AccountRole, GateKind
from facegate.domain.audit import AuditRecord, DetailValue
from facegate.domain.disclosure import DataClass
from facegate.domain.gate import GateEventKind
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind, DoorLiveness
from facegate.services.names import Names

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""An opaque id as the console must not show it."""

ENUMS: tuple[tuple[str, type[StrEnum]], ...] = (
    ("door_kind", DoorKind),
    ("door_mode", CredentialMode),
    ("door_liveness", DoorLiveness),
    ("credential", CredentialKind),
    ("person_role", Role),
    ("role", AccountRole),
    ("gate_kind", GateKind),
    ("method", ConsentMethod),
    ("purpose", ConsentPurpose),
    ("gate_event", GateEventKind),
    ("data_class", DataClass),
    ("why", Reason),  # staff words; the kiosk's ``reason.*`` words speak to residents
)
"""Message key prefix of each enum the console shows (``door_kind.entrance``...)."""

_BY_VALUE: dict[str, str] = {}
for _prefix, _enum in reversed(ENUMS):  # the first listed wins a shared value
    _BY_VALUE.update({member.value: f"{_prefix}.{member.value}" for member in _enum})


def enum_key(value: object) -> str | None:
    """The message key of an enum member or of an enum's value; ``None`` for others."""
    if isinstance(value, StrEnum):
        for prefix, enum in ENUMS:
            if isinstance(value, enum):
                return f"{prefix}.{value.value}"
    return _BY_VALUE.get(str(value)) if isinstance(value, str) else None


def enum_label(t: Callable[..., str]) -> Callable[[object], str]:
    """A function showing an enum member (or a comma-joined list of values) through ``t``."""

    def label(value: object) -> str:
        key = enum_key(value)
        if key is not None:
            return t(key)
        if isinstance(value, str) and "," in value:
            return ", ".join(label(part) for part in value.split(",") if part)
        return str(value)

    return label


@dataclass(frozen=True, slots=True)
class AuditLine:
    """One audit record as the console shows it (names and words, ids only in ``record``)."""

    record: AuditRecord
    actor: str
    action: str
    subject: str
    details: list[tuple[str, str]]


def _value(value: DetailValue, names: Names, t: Callable[..., str]) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return t("label.yes") if value else t("label.no")
    text = str(value)
    if "," in text:  # a list of ids or values (``person_ids``, ``accepted``)
        return ", ".join(_one(part, names, t) for part in text.split(",") if part)
    return _one(text, names, t)


def _one(text: str, names: Names, t: Callable[..., str]) -> str:
    named = names.of(text)
    if named is not None:
        return named
    if UUID.search(text):
        return t("label.removed")
    return enum_label(t)(text)


HIDDEN_DETAILS = frozenset({"key"})
"""Detail keys the page leaves out: an event's idempotency key means nothing to people."""


def _word(t: Callable[..., str], key: str, fallback: str) -> str:
    """``t(key)``, or ``fallback`` when no catalogue has ``key``."""
    text = t(key)
    return fallback if text == key else text


def detail_pairs(
    details: Mapping[str, DetailValue], names: Names, t: Callable[..., str]
) -> list[tuple[str, str]]:
    """An audit record's details as ``(label, value)`` pairs, ``None`` values left out."""
    return [
        (_word(t, f"detail.{key}", enum_label(t)(key)), _value(value, names, t))
        for key, value in details.items()
        if value is not None and key not in HIDDEN_DETAILS
    ]


def ids_in(records: list[AuditRecord]) -> set[str]:
    """Every id the records name (subjects and ids inside details), to look names up."""
    found = {r.subject_id for r in records if r.subject_id}
    for record in records:
        for value in record.details.values():
            found.update(UUID.findall(str(value)))
    return found


def _subject(record: AuditRecord, names: Names, t: Callable[..., str]) -> str:
    """The record's subject by name; an unnamed one by its kind (``a disclosure``)."""
    if not record.subject_id:
        return ""
    if names.of(record.subject_id) is None and UUID.fullmatch(record.subject_id):
        kind = record.action.partition(".")[0]
        return _word(t, f"subject.{kind}", t("label.removed"))
    return _value(record.subject_id, names, t)


def audit_lines(records: list[AuditRecord], names: Names, t: Callable[..., str]) -> list[AuditLine]:
    """The records as the audit page shows them."""
    lines = []
    for record in records:
        subject = _subject(record, names, t)
        lines.append(
            AuditLine(
                record,
                names.actor(record.actor),
                _word(t, f"audit_action.{record.action}", record.action),
                subject,
                detail_pairs(record.details, names, t),
            )
        )
    return lines
