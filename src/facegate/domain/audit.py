"""The append-only, hash-chained audit log.

Each record's ``hash`` is SHA-256 over its canonical JSON (sorted keys, no spaces, UTF-8,
``prev_hash`` included) followed by the previous record's hash, so changing, removing or
reordering any record breaks every hash after it. Records name people by opaque id only,
never by name or biometric data, so erasing a person never rewrites the chain.

Retention trims the oldest records: the trim appends a checkpoint record (action
:data:`TRIM_ACTION`) that states the sequence number and ``prev_hash`` the remaining chain
starts from, so what is left still verifies end to end.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from facegate.domain.clock import require_aware

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first record a site ever writes."""
TRIM_ACTION = "audit.trimmed"
"""Action of the checkpoint record a retention trim leaves."""

DetailValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One administrative action or read of personal data.

    Attributes:
        seq: position in the chain, from 1, without gaps.
        id: opaque id.
        occurred_at: when (UTC, microseconds).
        actor: who did it (an operator account, never a data subject's name).
        action: what, as ``noun.verb`` (``person.add``, ``person.export``).
        subject_id: the opaque id of the person or record acted on, if any.
        details: further facts, never names or biometric data.
        prev_hash: the previous record's hash (:data:`GENESIS_HASH` for the first).
        hash: this record's hash.
    """

    seq: int
    id: str
    occurred_at: datetime
    actor: str
    action: str
    subject_id: str | None
    details: Mapping[str, DetailValue] = field(default_factory=dict)
    prev_hash: str = GENESIS_HASH
    hash: str = ""

    def canonical_json(self) -> bytes:
        """The bytes the hash covers (everything but ``hash`` itself)."""
        body = {
            "seq": self.seq,
            "id": self.id,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": self.actor,
            "action": self.action,
            "subject_id": self.subject_id,
            "details": dict(self.details),
            "prev_hash": self.prev_hash,
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def computed_hash(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json` followed by ``prev_hash``."""
        return hashlib.sha256(self.canonical_json() + self.prev_hash.encode()).hexdigest()


def next_record(
    previous: AuditRecord | None,
    *,
    id: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    subject_id: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
) -> AuditRecord:
    """The record that follows ``previous`` (``None`` for the first), hashed."""
    record = AuditRecord(
        seq=1 if previous is None else previous.seq + 1,
        id=id,
        occurred_at=require_aware(occurred_at, "occurred_at"),
        actor=actor,
        action=action,
        subject_id=subject_id,
        details=dict(details or {}),
        prev_hash=GENESIS_HASH if previous is None else previous.hash,
    )
    return _with_hash(record)


def _with_hash(record: AuditRecord) -> AuditRecord:
    return AuditRecord(
        record.seq,
        record.id,
        record.occurred_at,
        record.actor,
        record.action,
        record.subject_id,
        record.details,
        record.prev_hash,
        record.computed_hash(),
    )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The verdict on an audit chain.

    Attributes:
        records: how many records were checked.
        broken_id: id of the first record that does not verify, ``None`` when intact.
        broken_seq: its sequence number.
        problem: what is wrong with it, in words.
    """

    records: int
    broken_id: str | None = None
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Whether every record verifies."""
        return self.broken_id is None


def _start_is_anchored(first: AuditRecord, records: Sequence[AuditRecord]) -> bool:
    if first.prev_hash == GENESIS_HASH and first.seq == 1:
        return True
    return any(
        r.action == TRIM_ACTION
        and r.details.get("first_seq") == first.seq
        and r.details.get("anchor_hash") == first.prev_hash
        for r in records
    )


def _problem(record: AuditRecord, previous: AuditRecord | None) -> str | None:
    if record.computed_hash() != record.hash:
        return "its content does not match its hash (edited)"
    if previous is not None and record.seq != previous.seq + 1:
        return f"sequence jumps from {previous.seq} to {record.seq} (records removed)"
    if previous is not None and record.prev_hash != previous.hash:
        return "it does not continue the previous record's hash"
    return None


def verify_chain(records: Sequence[AuditRecord]) -> ChainReport:
    """Check ``records`` (in ``seq`` order) end to end; name the first broken record."""
    if records and not _start_is_anchored(records[0], records):
        first = records[0]
        gap = "the chain starts mid-way without a trim checkpoint (records removed)"
        return ChainReport(len(records), first.id, first.seq, gap)
    previous: AuditRecord | None = None
    for record in records:
        problem = _problem(record, previous)
        if problem is not None:
            return ChainReport(len(records), record.id, record.seq, problem)
        previous = record
    return ChainReport(len(records))
