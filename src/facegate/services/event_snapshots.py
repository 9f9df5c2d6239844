"""Event snapshots: keep a sealed face crop with a denied decision, open it for some roles.

See :mod:`facegate.domain.snapshots`.

Keeping one is not audited (the event itself is the record, and a busy door would
flood the log); each view is (``snapshot.view``, the person's id as subject). Retention
(:func:`facegate.services.retention.purge`, class ``snapshots``) and erasure
(:func:`facegate.services.rights.erase_person`) delete them; one of a named person is
sealed under their data key, so erasing them also leaves every backup copy unreadable.

Edge gates in their own process send the crops of the faces they refuse (see
:mod:`facegate.api.routes.gates`): the server keeps one (:func:`keep_gate_snapshot`)
only for a refusal that gate has delivered as an event, with the door, person and
reason of the stored event (never the gate's word for them), and one per event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from facegate.domain.accounts import AccountRole
from facegate.domain.errors import (
    ConflictError,
    NotFoundError,
    PolicyRefusedError,
    ValidationError,
)
from facegate.domain.snapshots import SnapshotRecord
from facegate.ports import TemplateSealer, UnitOfWork
from facegate.services.context import ServiceContext, audit, new_id

log = logging.getLogger(__name__)

SNAPSHOTS_WANTED_HEADER = "X-Facegate-Snapshots"
"""Header on an edge gate's snapshot answer: ``1`` when the site keeps event snapshots."""


@dataclass(frozen=True, slots=True)
class SnapshotTaken:
    """A face crop taken with a denied decision, to be kept.

    Attributes:
        event_id: the decision event's key.
        door_id: the door or lift.
        person_id: who, when the decision named someone.
        reason: the decision's reason code.
        jpeg: the crop, JPEG-encoded.
    """

    event_id: str
    door_id: str
    person_id: str | None
    reason: str
    jpeg: bytes


def keep_snapshot(context: ServiceContext, sealer: TemplateSealer, taken: SnapshotTaken) -> str:
    """Seal and store ``taken``; returns the snapshot's id.

    Under the person's data key when they have one; else under a key of its own.

    Raises:
        ConflictError: the event has a snapshot already (that one is kept).
    """
    with context.store.unit_of_work() as uow:
        snapshot_id = _keep(uow, context, sealer, taken)
        uow.commit()
    return snapshot_id


def _keep(
    uow: UnitOfWork, context: ServiceContext, sealer: TemplateSealer, taken: SnapshotTaken
) -> str:
    snapshot_id = new_id()
    person_key = None if taken.person_id is None else uow.keys.get(taken.person_id)
    sealed = sealer.seal_snapshot(snapshot_id, taken.jpeg, person_key)
    record = SnapshotRecord(
        snapshot_id,
        taken.event_id,
        taken.door_id,
        taken.person_id,
        taken.reason,
        context.clock.now(),
    )
    if not uow.snapshots.add(record, sealed):
        raise ConflictError(f"event {taken.event_id} has a snapshot already")
    return snapshot_id


@dataclass(frozen=True, slots=True)
class GateCrop:
    """A face crop an edge gate sent for one of its events, and what it says of it.

    Attributes:
        gate_id: the sending gate (its device key's).
        door_id: the door or lift of the gate's key.
        event_id: the event's key.
        jpeg: the crop, JPEG-encoded.
        reason: the reason the gate says the event had (``None``: not said).
        person_id: the person the gate says the event named (``None``: not said).
    """

    gate_id: str
    door_id: str
    event_id: str
    jpeg: bytes
    reason: str | None = None
    person_id: str | None = None


def keep_gate_snapshot(context: ServiceContext, sealer: TemplateSealer, crop: GateCrop) -> str:
    """Keep an edge gate's crop with the refusal it delivered; returns the snapshot's id.

    The door, person and reason kept are the stored event's; a reason or person the gate
    sends must be the event's (a gate that says otherwise has nothing kept). The gate
    sends a crop after its event is delivered (:mod:`facegate.gate.edge_snapshots`).

    Raises:
        NotFoundError: this gate delivered no stored event ``crop.event_id`` at its door
            (not yet delivered, refused, another gate's, or purged).
        ValidationError: the event was a grant, or not what the gate says it was.
        ConflictError: the event has a snapshot already (that one is kept).
    """
    with context.store.unit_of_work() as uow:
        event = uow.events.delivered(crop.event_id, crop.gate_id)
        if event is None or event.door_id != crop.door_id:
            raise NotFoundError(
                f"gate {crop.gate_id} delivered no event {crop.event_id}: deliver it first"
            )
        if event.granted:
            raise ValidationError("snapshots are kept of refusals only")
        said = (crop.reason or event.reason.value, crop.person_id or event.person_id)
        if said != (event.reason.value, event.person_id):
            raise ValidationError(f"event {crop.event_id} had another reason or person")
        taken = SnapshotTaken(
            event.id, event.door_id, event.person_id, event.reason.value, crop.jpeg
        )
        snapshot_id = _keep(uow, context, sealer, taken)
        uow.commit()
    return snapshot_id


def snapshot_keeper(
    context: ServiceContext, sealer: Callable[[], TemplateSealer]
) -> Callable[[SnapshotTaken], None]:
    """A sink for the gate pipeline that keeps each snapshot.

    A failure is logged, never raised: a snapshot must not change a decision's answer.
    """

    def keep(taken: SnapshotTaken) -> None:
        try:
            keep_snapshot(context, sealer(), taken)
        except Exception:  # the decision stands whatever happens to its snapshot
            log.exception("snapshot of event %s not kept", taken.event_id)

    return keep


def view_snapshot(
    context: ServiceContext,
    sealer: TemplateSealer,
    event_id: str,
    role: AccountRole,
    allowed: Collection[str],
) -> tuple[SnapshotRecord, bytes]:
    """The snapshot of event ``event_id`` and its JPEG, for a viewer of ``role``.

    Audited as ``snapshot.view`` (subject: the person, when named).

    Raises:
        PolicyRefusedError: ``role`` is not among ``allowed``.
        NotFoundError: no snapshot was kept with that event (or it was purged or erased).
    """
    if role.value not in allowed:
        raise PolicyRefusedError("your role may not see event snapshots")
    with context.store.unit_of_work() as uow:
        found = uow.snapshots.for_event(event_id)
        if found is None:
            raise NotFoundError(f"no snapshot of event {event_id}")
        record, sealed = found
        person_key = None if record.person_id is None else uow.keys.get(record.person_id)
        image = sealer.open_snapshot(record.id, sealed, person_key)
        details = {"event_id": event_id, "door_id": record.door_id, "reason": record.reason}
        audit(uow, context, "snapshot.view", record.person_id, details)
        uow.commit()
    return record, image
