"""Checking an audit chain against its checkpoints (the domain rules, no files)."""

from __future__ import annotations

from datetime import timedelta

from test_audit_chain import T0, chain

from facegate.domain.audit import GENESIS_HASH
from facegate.domain.audit_anchor import Checkpoint, check_anchored, checkpoint_of


def test_an_untouched_chain_agrees_with_every_checkpoint() -> None:
    records = chain(6)
    marks = [checkpoint_of(None, T0), checkpoint_of(records[2], T0 + timedelta(seconds=3))]
    marks.append(checkpoint_of(records[5], T0 + timedelta(seconds=6)))
    report = check_anchored(records, marks)
    assert (report.intact, report.checkpoints, report.covered_seq) == (True, 3, 6)


def test_truncation_even_to_nothing_is_found() -> None:
    records = chain(6)
    mark = checkpoint_of(records[4], T0)
    assert check_anchored(records[:4], [mark]).broken_seq == 5
    emptied = check_anchored([], [mark])
    assert not emptied.intact
    assert "records removed" in (emptied.problem or "")


def test_a_checkpoint_older_than_a_retention_trim_is_skipped() -> None:
    records = chain(6)
    old = checkpoint_of(records[1], T0)
    assert check_anchored(records[3:], [old, checkpoint_of(records[5], T0)]).intact


def test_a_differing_hash_or_no_checkpoint_fails() -> None:
    records = chain(3)
    forged = Checkpoint(2, "f" * 64, T0)
    assert "rewritten" in (check_anchored(records, [forged]).problem or "")
    assert not check_anchored(records, []).intact
    assert checkpoint_of(None, T0) == Checkpoint(0, GENESIS_HASH, T0)
