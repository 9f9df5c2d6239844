"""The audit hash chain: appends, verifies, and names the first broken record."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from facegate.domain.audit import GENESIS_HASH, TRIM_ACTION, AuditRecord, next_record, verify_chain

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def chain(n: int) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    for i in range(n):
        previous = records[-1] if records else None
        records.append(
            next_record(
                previous,
                id=f"r{i + 1}",
                occurred_at=T0 + timedelta(seconds=i),
                actor="admin",
                action="person.add",
                subject_id=f"p{i}",
                details={"role": "resident"},
            )
        )
    return records


def test_an_intact_chain_verifies() -> None:
    records = chain(5)
    assert records[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    report = verify_chain(records)
    assert report.intact
    assert report.records == 5
    assert verify_chain([]).intact


def test_an_edited_record_is_named() -> None:
    records = chain(5)
    records[2] = replace(records[2], subject_id="someone else")
    report = verify_chain(records)
    assert (report.broken_id, report.broken_seq) == ("r3", 3)
    assert "edited" in (report.problem or "")


def test_a_removed_record_is_detected() -> None:
    records = chain(5)
    del records[2]
    assert verify_chain(records).broken_id == "r4"
    assert verify_chain(chain(5)[1:]).broken_id == "r2"


def test_a_rehashed_forgery_still_breaks_the_link() -> None:
    records = chain(4)
    forged = replace(records[1], actor="intruder")
    records[1] = replace(forged, hash=forged.computed_hash())
    assert verify_chain(records).broken_id == "r3"


def test_a_trimmed_chain_verifies_from_its_checkpoint() -> None:
    records = chain(5)
    kept = records[3:]
    checkpoint = next_record(
        kept[-1],
        id="trim",
        occurred_at=T0 + timedelta(days=400),
        actor="purge",
        action=TRIM_ACTION,
        details={"first_seq": kept[0].seq, "anchor_hash": kept[0].prev_hash},
    )
    assert verify_chain([*kept, checkpoint]).intact
    assert not verify_chain([*records[4:], checkpoint]).intact
