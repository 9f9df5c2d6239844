"""Event snapshots: a face crop kept with a denied decision, opt-in per site.

A snapshot is sealed like a face template (AES-GCM under the person's data key when the
decision named someone, else under a data key of its own wrapped by the site key, see
:mod:`facegate.store.crypto`), kept for the retention period of the
``snapshots`` class (:attr:`facegate.domain.retention.RetentionPolicy.snapshots_days`),
deleted with the person on erasure, and opened only for the roles the site allows, each
view audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from facegate.domain.clock import require_aware
from facegate.domain.faces import Box

CROP_MARGIN = 0.25
"""Margin added around the face box on each side, as a fraction of its size."""


@dataclass(frozen=True, slots=True)
class SealedSnapshot:
    """A snapshot's ciphertext and the data key it was sealed with (wrapped).

    Attributes:
        site_key_id: fingerprint of the site key that wrapped ``wrapped_key`` (empty
            when sealed under the person's data key).
        wrapped_key: the snapshot's own data key, AES-GCM under the site key (empty
            when sealed under the person's data key).
        sealed: the JPEG, AES-GCM under the data key, bound to the snapshot's id.
    """

    site_key_id: str
    wrapped_key: bytes
    sealed: bytes

    @property
    def on_person_key(self) -> bool:
        """Whether it was sealed under the person's data key (erasure destroys it)."""
        return not self.wrapped_key


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """A stored snapshot (without its image).

    Attributes:
        id: opaque id.
        event_id: the decision event it belongs to (the event's key).
        door_id: the door or lift.
        person_id: who, when the decision named someone (erasure deletes it with them).
        reason: the decision's reason code.
        taken_at: when (UTC); the retention period counts from here.
    """

    id: str
    event_id: str
    door_id: str
    person_id: str | None
    reason: str
    taken_at: datetime

    def __post_init__(self) -> None:
        require_aware(self.taken_at, "taken_at")


def crop_box(box: Box, width: int, height: int, margin: float = CROP_MARGIN) -> Box:
    """``box`` widened by ``margin`` of its size on each side, clipped to the image."""
    dx, dy = round(box.width * margin), round(box.height * margin)
    return Box(
        max(0, box.left - dx),
        max(0, box.top - dy),
        min(width, box.right + dx),
        min(height, box.bottom + dy),
    )
