"""Gates in their own process: poll their snapshot, push their events (edge device key only).

``GET /gates/{gate_id}/snapshot?model=<descriptor model id>`` answers the snapshot of the
gate's own door or lift (the one its registered gate serves; a ``target`` parameter, if
sent, must name it) in the wire format of :mod:`facegate.gate.snapshot_wire`: its body
(templates, cards, PIN hashes, rules) is sealed under a key derived from the calling
gate's device key, so it is never in clear text outside the two ends, even where TLS
ends at a proxy. The answer's ``ETag`` is the snapshot version; with ``If-None-Match``
naming the current version the answer is ``304`` (one version read, nothing built, no
audit record). A gate that also sends ``X-Facegate-Delta: 3`` and holds a version whose
gallery this server remembers (:mod:`facegate.services.gallery_history`) gets the
change since that version instead of the whole snapshot
(:mod:`facegate.gate.snapshot_delta`: the access data in full, the templates added and
the ids removed); any other gets the whole snapshot. A gate has one answer made at a
time: asked again while its answer is being built, it is answered ``503`` with
``Retry-After`` (:data:`SNAPSHOT_ANSWERS`); a built answer counts as
:data:`BUILT_ANSWER_COST` more requests of the key's rate (:mod:`facegate.http.key_rate`:
every device request takes one, a key over its rate is answered ``429`` with
``Retry-After``). The poll's query also carries the
gate's health (``version``, ``last_sync``, ``backlog``, ``camera``, ``liveness``,
``door``), kept for ``/health``, ``/metrics`` and the console's dashboard.
A kiosk key gets no snapshot (``403``). While an administrator asks the gate for a
frame (:mod:`facegate.services.gate_frames`), the answer (``200`` or ``304``) carries
``X-Facegate-Frame-Wanted: 1``, and the gate posts one JPEG to ``POST
/gates/{gate_id}/frame`` (refused ``403`` when none was asked; held in memory for the
one view, never stored). When the site keeps event snapshots
(``FACEGATE_SNAPSHOTS__ENABLED``), the answer also carries ``X-Facegate-Snapshots: 1``
and the gate posts the face crop of each face it refused to ``POST
/gates/{gate_id}/snapshots?event=KEY[&reason=R][&person=ID]`` once that event is
delivered; the server keeps one crop per event, only for a refusal this gate delivered,
with the door, person and reason of the stored event, sealed as it keeps its own
kiosks' (:mod:`facegate.services.event_snapshots`).

``GET /gates/{gate_id}/mode?known=<mode>&nonce=<hex>&wait_s=<s>`` is the site mode's push
as a long poll: it answers as soon as the mode in force differs from ``known`` (a change
made in this server at once, one made by another process within
:data:`facegate.services.site_mode.WATCH_S`), or after ``wait_s`` (at most 30 s) with
the mode as it is, ``{"mode": ..., "tag": ...}``; ``tag`` is the HMAC of the gate, its
nonce and the mode under a key derived from the gate's device key
(:func:`facegate.gate.snapshot_wire.mode_tag`), so a gate takes no mode it did not ask
for. Waiting costs no worker thread (the endpoint sleeps in the event loop), and no
database read nor thread hop per gate (one shared read every 0.1 s while anyone waits,
:mod:`facegate.services.mode_feed`); a waiting poll wakes for a change, and each
:data:`DISCONNECT_CHECK_S` to see whether its gate is still there.

``POST /gates/{gate_id}/events`` stores each event once by its key (the gate's outbox
may send a batch again after a crash; the receipts ignore repeats); events must name
the gate's own door (see :func:`facegate.services.gate_sync.receive_events`).
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from facegate.domain.accounts import DeviceKey, GateKind
from facegate.domain.errors import PolicyRefusedError, ValidationError
from facegate.domain.gate import GateEvent, GateReport, GateSnapshot
from facegate.domain.policy import SiteMode
from facegate.domain.reasons import Reason
from facegate.gate.outbox import event_from_json
from facegate.gate.snapshot_delta import DELTA_HEADER, DELTA_WIRE_FORMAT, delta_to_wire
from facegate.gate.snapshot_sections import SectionMemo, Sections
from facegate.gate.snapshot_wire import (
    gate_wire_key,
    mode_push_key,
    mode_tag,
    snapshot_to_wire,
)
from facegate.http.deps import Deps, Device, context_for, device_bucket
from facegate.http.security import DEVICE_HEADER, Principal
from facegate.services.event_snapshots import (
    SNAPSHOTS_WANTED_HEADER,
    GateCrop,
    keep_gate_snapshot,
)
from facegate.services.gallery_history import GALLERIES
from facegate.services.gate_frames import (
    DESK,
    FRAME_WANTED_HEADER,
    MAX_FRAME_BYTES,
    media_type_of,
)
from facegate.services.gate_health import BOARD
from facegate.services.gate_sync import receive_events
from facegate.services.mode_feed import MODE_FEED
from facegate.services.site_mode import MAX_WAIT_S, MODE_WATCH
from facegate.services.snapshots import SnapshotRequest, build_snapshot, snapshot_version
from facegate.services.workers import OneEach

router = APIRouter(tags=["gates"])

MAX_BACKLOG = 1_000_000_000
"""Largest outbox backlog a poll may report (events; more is no count but a bad value, and
it goes to ``/metrics`` as a number a scraper must read)."""
BUILT_ANSWER_COST = 10.0
"""What a snapshot answer that was built (a whole snapshot or a delta, audited) costs its
key beyond the request itself, in requests of :class:`facegate.http.key_rate.KeyRate`: a
gate gets one per site change, at most one a second, while a key asking for ever new
builds gets about 3 a second at the default 30 requests/s instead of 30."""
SNAPSHOT_ANSWERS = OneEach()
"""The gates whose snapshot answer (a build, a seal) is being made: one at a time each, a
second ask meanwhile is answered 503 (a gate asks again at its next sync)."""
DISCONNECT_CHECK_S = 1.0
"""How often a waiting mode poll looks whether its gate hung up (seconds)."""
MAX_CROP_BYTES = 1_000_000
"""Largest face crop a gate may send (bytes; a 256 px crop is about 15 kB)."""

SECTION_PARTS = SectionMemo()
"""The encoded sections the gates' snapshots share (each encoded once per version)."""


class EventBatch(BaseModel):
    """Events of one gate's outbox, in the outbox's JSON (see ``event_to_json``)."""

    events: list[dict[str, Any]] = Field(max_length=1000)


class Receipt(BaseModel):
    """How many events came, and how many were new (the rest were already stored)."""

    received: int
    new: int


def _own_gate(principal: Principal, gate_id: str) -> DeviceKey:
    """The calling key, when it is a live edge key of ``gate_id``."""
    device = principal.device
    if device is None or device.gate_id != gate_id or not device.target_id:
        raise PolicyRefusedError("this device key is for another gate")
    if device.kind is not GateKind.EDGE:
        raise PolicyRefusedError("a kiosk key gets no snapshot and delivers no events")
    return device


@router.get("/gates/{gate_id}/snapshot", response_model=None)
def gate_snapshot(
    deps: Deps,
    principal: Device,
    request: Request,
    gate_id: str,
    model: Annotated[str, Query(max_length=64)],
    target: Annotated[str | None, Query(max_length=64)] = None,
    version: Annotated[str, Query(max_length=64)] = "",
    last_sync: datetime | None = None,
    backlog: Annotated[int, Query(ge=-1, le=MAX_BACKLOG)] = -1,
    camera: Annotated[str, Query(max_length=16)] = "unknown",
    liveness: Annotated[str, Query(max_length=16)] = "",
    door: Annotated[str, Query(max_length=16)] = "unknown",
) -> Response:
    """The snapshot the gate ``gate_id`` decides from at its door, sealed for it."""
    device = _own_gate(principal, gate_id)
    if target is not None and target != device.target_id:
        raise PolicyRefusedError("this gate's key is for another door or lift")
    context = context_for(deps, principal)
    report = GateReport(version, last_sync, backlog, camera, liveness, door)
    BOARD.record(gate_id, context.clock.now(), report)
    match, _ = deps.settings.match_policy(model)
    wanted = SnapshotRequest(device.target_id, model, match)
    current = snapshot_version(context, wanted)
    wanted_frame = {FRAME_WANTED_HEADER: "1"} if DESK.is_asked(gate_id) else {}
    if deps.settings.snapshots.enabled:
        wanted_frame[SNAPSHOTS_WANTED_HEADER] = "1"
    if request.headers.get("if-none-match") == f'"{current}"':
        return Response(status_code=304, headers={"ETag": f'"{current}"', **wanted_frame})
    retry_after_s = deps.settings.server.busy_retry_after_s
    with SNAPSHOT_ANSWERS.held(gate_id, "a snapshot answer", retry_after_s):
        snapshot = build_snapshot(
            context, deps.sealer(), device.target_id, model, match, gate_id=gate_id
        )
        secret = request.headers[DEVICE_HEADER]
        body = _wire(snapshot, gate_id, gate_wire_key(secret, gate_id), request)
    deps.device_rate.charge(device_bucket(secret), BUILT_ANSWER_COST)
    return JSONResponse(body, headers={"ETag": f'"{snapshot.version}"', **wanted_frame})


def _wire(snapshot: GateSnapshot, gate_id: str, key: bytes, request: Request) -> dict[str, Any]:
    """``snapshot`` on the wire for ``gate_id``: a delta or whole.

    A delta from the version the gate holds when it can take one and that version's
    gallery is remembered here (its unchanged access sections left out); else the whole
    snapshot. Either way its gallery's ids and its sections' digests are remembered for
    the next change.
    """
    target, model = snapshot.target.id, snapshot.model_id
    ids = snapshot.access.gallery.template_ids()
    held = request.headers.get("if-none-match", "").strip('"')
    wants = request.headers.get(DELTA_HEADER) == str(DELTA_WIRE_FORMAT)
    base = GALLERIES.at(target, model, held) if wants and held and ids is not None else None
    sections = Sections.of(snapshot.access, SECTION_PARTS)
    if ids is not None:
        GALLERIES.record(target, model, snapshot.version, ids, sections.digests)
    if base is None:
        return snapshot_to_wire(snapshot, gate_id, key, sections.texts)
    return delta_to_wire(snapshot, held, base.ids, gate_id, key, base.sections, sections)


class FrameTaken(BaseModel):
    """Whether the frame was taken (it was asked and is an image)."""

    taken: bool


@router.post("/gates/{gate_id}/frame")
async def gate_frame(principal: Device, request: Request, gate_id: str) -> FrameTaken:
    """One camera frame (the body: ``image/jpeg``), only while an administrator asks one.

    Held in memory until the administrator's page takes it, never stored.
    """
    _own_gate(principal, gate_id)
    if not DESK.is_asked(gate_id):
        raise PolicyRefusedError("no frame was asked of this gate")
    data = await _body(request, MAX_FRAME_BYTES)
    if not DESK.offer(gate_id, data):
        raise ValidationError("not a JPEG or PNG image, or no longer asked")
    return FrameTaken(taken=True)


class PushedMode(BaseModel):
    """The site mode in force, bound to the asking gate and its nonce."""

    mode: SiteMode
    tag: str


@router.get("/gates/{gate_id}/mode")
async def gate_mode(
    deps: Deps,
    principal: Device,
    request: Request,
    gate_id: str,
    nonce: Annotated[str, Query(min_length=16, max_length=64, pattern="^[0-9a-f]+$")],
    known: SiteMode | None = None,
    wait_s: Annotated[float, Query(ge=0.0, le=MAX_WAIT_S)] = 25.0,
) -> PushedMode:
    """The site mode as soon as it differs from ``known``, or after ``wait_s`` seconds."""
    _own_gate(principal, gate_id)
    context = context_for(deps, principal)
    deadline = time.monotonic() + wait_s
    mode = await run_in_threadpool(MODE_WATCH.mode, context)
    while mode is known and time.monotonic() < deadline:
        if await request.is_disconnected():
            break
        left = min(deadline - time.monotonic(), DISCONNECT_CHECK_S)
        mode = await MODE_FEED.changed(context, known, max(left, 0.0)) or mode
    key = mode_push_key(request.headers[DEVICE_HEADER], gate_id)
    return PushedMode(mode=mode, tag=mode_tag(key, gate_id, nonce, mode.value))


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
    context = context_for(deps, principal)
    BOARD.seen(gate_id, context.clock.now())
    with context.store.unit_of_work() as uow:
        gate = uow.gates.get(gate_id)
    new = receive_events(context, events, gate, deps.settings.gate.event_max_age_s)
    if deps.alarms is not None:
        deps.alarms.relay(events)  # alarm kinds only, each once by its key
    return Receipt(received=len(events), new=new)


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, refused beyond ``limit`` bytes."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise ValidationError(f"at most {limit} bytes")
    return bytes(data)


@router.post("/gates/{gate_id}/snapshots")
async def gate_snapshot_crop(
    deps: Deps,
    principal: Device,
    request: Request,
    gate_id: str,
    event: Annotated[str, Query(min_length=1, max_length=64)],
    reason: Annotated[Reason | None, Query()] = None,
    person: Annotated[str | None, Query(max_length=36)] = None,
) -> FrameTaken:
    """The face crop (body: ``image/jpeg``) of a face the gate refused, kept sealed.

    Only while the site keeps event snapshots (else ``403``); only for a refusal this
    gate has delivered as an event (else ``404``; the gate sends it after the event),
    with that event's door, person and reason (``reason`` and ``person``, when sent,
    must be the event's: else ``422``); one per event (a second: ``409``, the first
    kept).
    """
    device = _own_gate(principal, gate_id)
    if not deps.settings.snapshots.enabled:
        raise PolicyRefusedError("this site keeps no event snapshots")
    if reason is Reason.GRANTED:
        raise ValidationError("snapshots are kept of refusals only")
    jpeg = await _body(request, MAX_CROP_BYTES)
    if media_type_of(jpeg) != "image/jpeg":
        raise ValidationError("a snapshot is a JPEG image")
    context = context_for(deps, principal)
    said = None if reason is None else reason.value
    crop = GateCrop(gate_id, device.target_id, event, jpeg, said, person)
    await run_in_threadpool(keep_gate_snapshot, context, deps.sealer(), crop)
    return FrameTaken(taken=True)
