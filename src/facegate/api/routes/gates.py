"""Gates in their own process: pull their snapshot, push their events (device key only).

``GET /gates/{gate_id}/snapshot?target=<door or lift>&model=<descriptor model id>``
answers the snapshot in the wire format of :mod:`facegate.gate.snapshot_wire`: its body
(templates, cards, PIN hashes, rules) is sealed under a key derived from the calling
gate's device key, so it is never in clear text outside the two ends, even where TLS
ends at a proxy. ``POST /gates/{gate_id}/events`` stores each event once by its key
(the gate's outbox may send a batch again after a crash; the receipts ignore repeats).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from facegate.domain.errors import PolicyRefusedError, ValidationError
from facegate.domain.gate import GateEvent
from facegate.domain.policy import SiteMode
from facegate.gate.outbox import event_from_json
from facegate.gate.snapshot_wire import gate_wire_key, snapshot_to_wire
from facegate.http.deps import Deps, Device, context_for
from facegate.http.security import DEVICE_HEADER, Principal
from facegate.services.gate_sync import build_snapshot, receive_events

router = APIRouter(tags=["gates"])


class EventBatch(BaseModel):
    """Events of one gate's outbox, in the outbox's JSON (see ``event_to_json``)."""

    events: list[dict[str, Any]] = Field(max_length=1000)


class Receipt(BaseModel):
    """How many events came, and how many were new (the rest were already stored)."""

    received: int
    new: int


def _own_gate(principal: Principal, gate_id: str) -> None:
    if principal.device is None or principal.device.gate_id != gate_id:
        raise PolicyRefusedError("this device key is for another gate")


@router.get("/gates/{gate_id}/snapshot")
def gate_snapshot(
    deps: Deps, principal: Device, request: Request, gate_id: str, target: str, model: str
) -> dict[str, Any]:
    """The snapshot the gate ``gate_id`` decides from at ``target``, sealed for it."""
    _own_gate(principal, gate_id)
    match, _ = deps.settings.match_policy(model)
    mode = SiteMode(deps.settings.gate.site_mode)
    context = context_for(deps, principal)
    snapshot = build_snapshot(context, deps.sealer(), target, model, match, mode)
    key = gate_wire_key(request.headers[DEVICE_HEADER], gate_id)
    return snapshot_to_wire(snapshot, gate_id, key)


def _parse(batch: EventBatch, gate_id: str) -> list[GateEvent]:
    try:
        events = [event_from_json(raw) for raw in batch.events]
    except (KeyError, ValueError, TypeError, AttributeError) as err:
        raise ValidationError(f"malformed event: {err!r}") from err
    if any(event.gate_id != gate_id for event in events):
        raise PolicyRefusedError("a gate may only deliver its own events")
    return events


@router.post("/gates/{gate_id}/events")
def gate_events(deps: Deps, principal: Device, gate_id: str, batch: EventBatch) -> Receipt:
    """Store the gate's events, each at most once by its key."""
    _own_gate(principal, gate_id)
    events = _parse(batch, gate_id)
    new = receive_events(context_for(deps, principal), events)
    return Receipt(received=len(events), new=new)
