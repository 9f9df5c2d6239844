"""The dispenser's memory: quota per face, seconds left, expiry that overwrites, the counter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from facegate.domain.errors import BadInputError
from facegate.gate.dispense_quota import FaceQuota, ItemCounter, QuotaMemoryFullError, QuotaRule


def face(seed: int) -> np.ndarray:
    """A unit-length 128-d vector; different seeds are far apart (about 1.4)."""
    vector = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return vector / np.linalg.norm(vector)


def test_one_item_per_window_then_the_seconds_left_then_again() -> None:
    quota = FaceQuota(QuotaRule(1, 540.0))
    assert quota.seconds_left(face(1), 1000.0) is None
    quota.give(face(1), 1000.0)
    near = face(1) + 0.01
    assert quota.seconds_left(near, 1100.0) == pytest.approx(440.0)
    assert quota.seconds_left(face(2), 1100.0) is None  # someone else
    assert quota.seconds_left(near, 1540.0) is None  # the window ended


def test_two_items_counts_the_oldest_that_still_counts() -> None:
    quota = FaceQuota(QuotaRule(2, 100.0))
    quota.give(face(1), 0.0)
    assert quota.seconds_left(face(1), 10.0) is None
    quota.give(face(1), 10.0)
    assert quota.seconds_left(face(1), 20.0) == pytest.approx(80.0)


def test_expiry_overwrites_the_descriptor_in_the_buffer() -> None:
    quota = FaceQuota(QuotaRule(1, 60.0), capacity=4)
    row = quota.give(face(3), 0.0)
    assert np.array_equal(quota._vectors[row], face(3))
    assert quota.expire(59.0) == 0
    assert len(quota) == 1
    assert quota.expire(60.0) == 1
    assert len(quota) == 0
    assert not quota._vectors.any()
    quota.give(face(4), 61.0)
    quota.wipe()
    assert not quota._vectors.any()
    assert len(quota) == 0


def test_a_full_memory_and_a_bad_descriptor_are_refused() -> None:
    quota = FaceQuota(QuotaRule(1, 60.0), capacity=1)
    quota.give(face(1), 0.0)
    with pytest.raises(QuotaMemoryFullError):
        quota.give(face(2), 1.0)
    bad = face(2)
    bad[0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        quota.seconds_left(bad, 1.0)
    with pytest.raises(ValueError, match="wrong shape"):
        quota.seconds_left(np.zeros(3, dtype=np.float32), 1.0)


@pytest.mark.parametrize(("items", "window_s"), [(0, 60.0), (1, 0.0), (1, float("nan"))])
def test_a_rule_without_items_or_window_is_refused(items: int, window_s: float) -> None:
    with pytest.raises(ValueError, match=r"item|window"):
        QuotaRule(items, window_s)


def test_the_counter_keeps_counts_per_hour_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "d" / "dispensed.json"
    counter = ItemCounter(path)
    counter.add(datetime(2026, 11, 28, 5, 10, tzinfo=UTC))
    counter.add(datetime(2026, 11, 28, 5, 50, tzinfo=UTC))
    counter.add(datetime(2026, 11, 28, 6, 1, tzinfo=UTC))
    assert json.loads(path.read_text()) == {
        "hours": {"2026-11-28T05": 2, "2026-11-28T06": 1},
        "total": 3,
    }
    assert ItemCounter(path).total == 3


def test_a_file_that_is_not_a_counter_is_refused_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "dispensed.json"
    path.write_text('{"faces": [0.1, 0.2]}')
    with pytest.raises(BadInputError, match="item counter"):
        ItemCounter(path)
    assert path.read_text() == '{"faces": [0.1, 0.2]}'
