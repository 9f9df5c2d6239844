"""The rationed dispenser's memory and its only record: quota per face, items given.

:class:`FaceQuota` keeps the descriptors of the faces served within the quota window in
one fixed numpy buffer, in memory only: a row is overwritten with zeros when its window
ends, and the whole buffer when the dispenser stops. Nothing in it names anyone: a face
is "someone served N times within the window" and nothing more. :class:`ItemCounter`
is the one thing written to disk: how many items were given, per UTC hour.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from facegate.domain.errors import BadInputError
from facegate.domain.matching import DEFAULT_MATCH_THRESHOLD, FloatArray

DISPENSE_THRESHOLD = DEFAULT_MATCH_THRESHOLD
"""Euclidean distance under which a face counts as one already served (the shipped 1:1
access threshold, calibrated on the calibration half of the shared identity sets; see
docs/dispense.md for the rates measured on the other half)."""

CAPACITY = 4096
"""Most served faces remembered at once (rows of the buffer; 2 MiB of float32)."""

COUNTER_FILE = "dispensed.json"
"""The item counter's file name in the data directory."""


@dataclass(frozen=True, slots=True)
class QuotaRule:
    """``items`` items per face per ``window_s`` seconds (e.g. 1 per 540 s: 9 minutes).

    Raises:
        ValueError: fewer than 1 item, or a window that is not a positive finite number.
    """

    items: int
    window_s: float

    def __post_init__(self) -> None:
        if self.items < 1:
            raise ValueError(f"--items {self.items}: give at least 1 item per face")
        if not (math.isfinite(self.window_s) and self.window_s > 0):
            raise ValueError(f"quota window {self.window_s} s is not a positive duration")


class QuotaMemoryFullError(Exception):
    """Every row of the buffer holds a face still within its window (the dispenser refuses)."""


class FaceQuota:
    """Descriptors of the faces served within the window, in memory only.

    Args:
        rule: the quota.
        threshold: euclidean distance under which two descriptors are the same face.
        capacity: rows of the buffer (see :data:`CAPACITY`).
        dims: descriptor length (128 for dlib).
    """

    def __init__(
        self,
        rule: QuotaRule,
        threshold: float = DISPENSE_THRESHOLD,
        capacity: int = CAPACITY,
        dims: int = 128,
    ) -> None:
        if not (math.isfinite(threshold) and threshold > 0) or capacity < 1:
            raise ValueError("a quota needs a positive threshold and capacity")
        self.rule, self.threshold = rule, threshold
        self._vectors = np.zeros((capacity, dims), dtype=np.float32)
        self._given_at = np.full(capacity, -np.inf)  # clock seconds; -inf: a free row

    def __len__(self) -> int:
        """Faces (given items) remembered now."""
        return int(np.count_nonzero(np.isfinite(self._given_at)))

    def seconds_left(self, descriptor: FloatArray, now_s: float) -> float | None:
        """Seconds until this face may have another item, ``None`` when it may now.

        Raises:
            ValueError: a descriptor of the wrong shape or with non-finite values (the
                dispenser refuses: fail closed).
        """
        probe = self._checked(descriptor)
        self.expire(now_s)
        used = np.isfinite(self._given_at)
        distances = np.linalg.norm(self._vectors[used] - probe, axis=1)
        hits = np.sort(self._given_at[used][distances <= self.threshold])
        if hits.size < self.rule.items:
            return None
        # The next item comes when the oldest item that still counts leaves the window.
        return max(float(hits[hits.size - self.rule.items]) + self.rule.window_s - now_s, 0.0)

    def give(self, descriptor: FloatArray, now_s: float) -> int:
        """Remember that ``descriptor``'s face got an item at ``now_s`` (clock seconds).

        Returns:
            The row it took (for :meth:`release` when the item could not be given).

        Raises:
            QuotaMemoryFullError: no free row.
            ValueError: as :meth:`seconds_left`.
        """
        probe = self._checked(descriptor)
        self.expire(now_s)
        free = np.flatnonzero(~np.isfinite(self._given_at))
        if free.size == 0:
            raise QuotaMemoryFullError(f"{self._given_at.size} faces are within their window")
        row = int(free[0])
        self._vectors[row] = probe
        self._given_at[row] = now_s
        return row

    def release(self, row: int) -> None:
        """Overwrite ``row`` (its item was not given after all)."""
        self._vectors[row] = 0.0
        self._given_at[row] = -np.inf

    def expire(self, now_s: float) -> int:
        """Overwrite the rows whose window ended by ``now_s``; returns how many."""
        ended = np.isfinite(self._given_at) & (self._given_at <= now_s - self.rule.window_s)
        count = int(np.count_nonzero(ended))
        if count:
            self._vectors[ended] = 0.0
            self._given_at[ended] = -np.inf
        return count

    def wipe(self) -> None:
        """Overwrite every row (the dispenser stops)."""
        self._vectors.fill(0.0)
        self._given_at.fill(-np.inf)

    def _checked(self, descriptor: FloatArray) -> FloatArray:
        probe = np.asarray(descriptor, dtype=np.float32)
        if probe.shape != self._vectors.shape[1:] or not np.isfinite(probe).all():
            raise ValueError("a face descriptor of the wrong shape or with non-finite values")
        return probe


class ItemCounter:
    """How many items were given, per UTC hour, in ``<data dir>/dispensed.json``.

    The file holds ``{"hours": {"2026-11-28T05": 12, ...}, "total": 40}`` and nothing
    else; it is rewritten whole (a temporary file renamed over it) after each item.

    Args:
        path: the file (created with its folder when missing).

    Raises:
        BadInputError: the file exists but is not a counter (it is left as it is).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hours: dict[str, int] = {}
        if path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self.hours = {str(k): int(v) for k, v in loaded["hours"].items()}
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                raise BadInputError(f"{path}: not a dispenser's item counter") from error

    @property
    def total(self) -> int:
        """Items given, all hours together."""
        return sum(self.hours.values())

    def add(self, when: datetime, count: int = 1) -> None:
        """Count ``count`` items given at ``when`` (aware) and write the file."""
        hour = when.astimezone(UTC).strftime("%Y-%m-%dT%H")
        self.hours[hour] = self.hours.get(hour, 0) + count
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".tmp")
        body = {"hours": self.hours, "total": self.total}
        partial.write_text(json.dumps(body, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, self.path)
