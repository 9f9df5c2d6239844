"""Checkpoints that anchor the audit chain outside the database.

The hash chain (:mod:`facegate.domain.audit`) shows edits inside it, but whoever can write
the database can also delete its last records, or edit one and recompute every later
hash, and the chain still verifies. A checkpoint states the chain's head (sequence number
and hash) at a moment; it is signed with a key kept apart from the database and the site
key and appended to a file outside the database (and, later, sent to the city hub). The
chain is then checked against every checkpoint: a head below a checkpoint's sequence
number means records were removed, a record whose hash differs from the checkpoint's
means it was rewritten.

What was written after the newest checkpoint is not covered: it can still be removed or
rewritten without trace until the next checkpoint states it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from facegate.domain.audit import GENESIS_HASH, AuditRecord
from facegate.domain.clock import require_aware


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The audit chain's head at a moment.

    Attributes:
        seq: the head record's sequence number (0 for an empty chain).
        hash: the head record's hash (:data:`GENESIS_HASH` for an empty chain).
        at: when the checkpoint was taken (UTC, microseconds).
    """

    seq: int
    hash: str
    at: datetime

    def signed_bytes(self) -> bytes:
        """The bytes the signature covers (canonical JSON, UTF-8)."""
        body = {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at.astimezone(UTC).isoformat(timespec="microseconds"),
        }
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint with its signature.

    Attributes:
        checkpoint: what is stated.
        key_id: which anchor key signed it (the first 16 hex digits of the SHA-256 of
            its raw public key).
        signature: the Ed25519 signature of :meth:`Checkpoint.signed_bytes`, hex.
    """

    checkpoint: Checkpoint
    key_id: str
    signature: str


def checkpoint_of(head: AuditRecord | None, at: datetime) -> Checkpoint:
    """The checkpoint stating ``head`` (``None``: the empty chain) at ``at``."""
    at = require_aware(at, "at")
    if head is None:
        return Checkpoint(0, GENESIS_HASH, at)
    return Checkpoint(head.seq, head.hash, at)


@dataclass(frozen=True, slots=True)
class AnchorReport:
    """The verdict on an audit chain checked against its checkpoints.

    Attributes:
        checkpoints: how many checkpoints were read.
        covered_seq: the newest checkpoint's sequence number; records after it are not
            covered. ``None`` when there is no checkpoint.
        covered_at: when the newest checkpoint was taken.
        broken_seq: the sequence number a checkpoint contradicts, ``None`` when none does.
        problem: what is wrong, in words.
    """

    checkpoints: int
    covered_seq: int | None = None
    covered_at: datetime | None = None
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        """Whether every checkpoint agrees with the chain."""
        return self.problem is None


def _contradiction(
    checkpoint: Checkpoint, by_seq: dict[int, AuditRecord], first: int, head: int
) -> str | None:
    stamp = checkpoint.at.astimezone(UTC).isoformat(timespec="seconds")
    if checkpoint.seq > head:
        return (
            f"the checkpoint of {stamp} states record {checkpoint.seq} but the chain ends at "
            f"record {head} (records removed)"
        )
    if checkpoint.seq == 0 or checkpoint.seq < first:
        return None  # the empty chain, or trimmed since by retention (a trim record says so)
    record = by_seq.get(checkpoint.seq)
    if record is None:
        return f"record {checkpoint.seq}, stated by the checkpoint of {stamp}, is missing"
    if record.hash != checkpoint.hash:
        return (
            f"record {checkpoint.seq} differs from the checkpoint of {stamp} "
            "(it or an earlier record was rewritten)"
        )
    return None


def check_anchored(
    records: Sequence[AuditRecord], checkpoints: Sequence[Checkpoint]
) -> AnchorReport:
    """Check ``records`` (``seq`` order, gap-free: see ``verify_chain``) against checkpoints.

    Every checkpoint is checked, oldest first; the first contradiction is reported.
    """
    if not checkpoints:
        return AnchorReport(0, problem="no checkpoint: nothing anchors the chain")
    newest = max(checkpoints, key=lambda c: (c.at, c.seq))
    by_seq = {record.seq: record for record in records}
    first = records[0].seq if records else 1
    head = records[-1].seq if records else 0
    for checkpoint in sorted(checkpoints, key=lambda c: (c.at, c.seq)):
        problem = _contradiction(checkpoint, by_seq, first, head)
        if problem is not None:
            return AnchorReport(len(checkpoints), newest.seq, newest.at, checkpoint.seq, problem)
    return AnchorReport(len(checkpoints), newest.seq, newest.at)
