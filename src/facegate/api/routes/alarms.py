"""The site's alarm log: the raised alarms, and their acknowledgement (who, when, note)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from facegate.domain.alarms import AlarmRecord
from facegate.http.deps import Deps, Reader, Staff, context_for
from facegate.services import alarm_log

router = APIRouter(prefix="/alarms", tags=["alarms"])


class AlarmPublic(BaseModel):
    """A raised alarm; ``acked_at`` is null while it is active."""

    key: str
    type: str
    gate_id: str
    door_id: str
    occurred_at: datetime
    person_id: str | None
    note: str
    acked_at: datetime | None
    acked_by: str | None
    ack_note: str

    @classmethod
    def of(cls, alarm: AlarmRecord) -> AlarmPublic:
        """From the domain record."""
        return cls(
            key=alarm.key,
            type=alarm.kind.value,
            gate_id=alarm.gate_id,
            door_id=alarm.door_id,
            occurred_at=alarm.occurred_at,
            person_id=alarm.person_id,
            note=alarm.note,
            acked_at=alarm.acked_at,
            acked_by=alarm.acked_by,
            ack_note=alarm.ack_note,
        )


class AlarmAck(BaseModel):
    """An acknowledgement: what the person on duty found or did."""

    note: str = Field(default="", max_length=alarm_log.ACK_NOTE_MAX)


@router.get("")
def list_alarms(
    deps: Deps,
    principal: Reader,
    active: Annotated[bool, Query(description="only the unacknowledged ones")] = True,
    limit: Annotated[int, Query(ge=1, le=alarm_log.LIST_LIMIT)] = alarm_log.LIST_LIMIT,
) -> list[AlarmPublic]:
    """The newest alarms first (only the active ones unless ``active=false``)."""
    found = alarm_log.list_alarms(context_for(deps, principal), active, limit)
    return [AlarmPublic.of(alarm) for alarm in found]


@router.post("/{key}/ack")
def acknowledge(deps: Deps, principal: Staff, key: str, body: AlarmAck) -> AlarmPublic:
    """Acknowledge an alarm (audited as ``alarm.ack``); 409 when done already."""
    done = alarm_log.acknowledge_alarm(context_for(deps, principal), key, body.note)
    return AlarmPublic.of(done)
