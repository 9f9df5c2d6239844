"""Event snapshots: keep a sealed face crop with a denied decision, open it for some roles.

See :mod:`facegate.domain.snapshots`.

Keeping one is not audited (the event itself is the record, and a busy door would
flood the log); each view is (``snapshot.view``, the person's id as subject). Retention
(:func:`facegate.services.retention.purge`, class ``snapshots``) and erasure
(:func:`facegate.services.rights.erase_person`) delete them; one of a named person is
sealed under their data key, so erasing them also leaves every backup copy unreadable.

Edge gates in their own process send the crops of the faces they refuse (see
:mod:`facegate.api.routes.gates`): the server keeps them here like its kiosks' own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass

from facegate.domain.accounts import AccountRole
from facegate.domain.errors import NotFoundError, PolicyRefusedError
from facegate.domain.snapshots import SnapshotRecord
from facegate.ports import TemplateSealer
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
    """
    snapshot_id = new_id()
    with context.store.unit_of_work() as uow:
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
        uow.snapshots.add(record, sealed)
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
