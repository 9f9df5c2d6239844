"""Access events: past ones with filters, and live ones as server-sent events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from facegate.api.schemas import EventPublic
from facegate.domain.events import EventQuery
from facegate.domain.reasons import Reason
from facegate.http.deps import Deps, Reader, ServerDeps, context_for
from facegate.http.metrics import Metrics
from facegate.services import activity
from facegate.services.alarms import AlarmFeed
from facegate.services.context import ServiceContext

router = APIRouter(prefix="/events", tags=["events"])

POLL_S = 1.0
"""How often the live stream looks for new events, in seconds."""


@router.get("")
def list_events(
    deps: Deps,
    principal: Reader,
    door_id: str | None = None,
    person_id: str | None = None,
    granted: bool | None = None,
    reason: Reason | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventPublic]:
    """Past events, newest first, filtered (the read is audited).

    ``since`` and ``until`` need a time zone (``2026-01-01T00:00:00Z``); without one: 422.
    """
    query = EventQuery(door_id, person_id, granted, reason, since, until, limit)
    return [EventPublic.of(e) for e in activity.search_events(context_for(deps, principal), query)]


def _alarms(feed: AlarmFeed | None, after: int) -> tuple[list[str], int]:
    """The feed's alarms numbered above ``after`` as ``event: alarm`` messages."""
    if feed is None:
        return [], after
    messages = []
    for seq, payload in feed.after(after):
        after = seq
        messages.append(
            f"event: alarm\nid: alarm-{payload['key']}\ndata: {json.dumps(payload)}\n\n"
        )
    return messages, after


async def _stream(
    context: ServiceContext,
    metrics: Metrics,
    duration_s: float,
    clock_start: datetime,
    feed: AlarmFeed | None = None,
) -> AsyncIterator[str]:
    seen: set[str] = set()
    since = clock_start
    alarm_seq = feed.last if feed is not None else 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + duration_s
    metrics.sse_clients += 1
    try:
        yield "retry: 3000\n\n"
        while True:
            alarms, alarm_seq = _alarms(feed, alarm_seq)
            for message in alarms:
                yield message
            events = await asyncio.to_thread(activity.events_after, context, since)
            for event in events:
                if event.id not in seen:
                    seen.add(event.id)
                    since = max(since, event.occurred_at)
                    data = json.dumps(EventPublic.of(event).model_dump(mode="json"))
                    yield f"event: access\nid: {event.id}\ndata: {data}\n\n"
            if loop.time() >= deadline:
                return
            await asyncio.sleep(POLL_S)
    finally:
        metrics.sse_clients -= 1


@router.get("/stream", response_class=StreamingResponse)
def stream_events(
    request: Request,
    deps: Deps,
    principal: Reader,
    since: AwareDatetime | None = None,
    duration_s: Annotated[float, Query(ge=0, le=3600)] = 600,
) -> StreamingResponse:
    """New events as ``text/event-stream`` for ``duration_s`` seconds.

    ``event: access`` for each access event, ``event: alarm`` for each alarm raised while
    the stream is open (:func:`facegate.services.alarms.alarm_payload`: ``type`` is
    ``alert_list``, ``door_forced_open``, ``door_held_open``, ``actuator_failed``,
    ``gate_silent``, ``fire_input``, ``device_offline``, ``tailgating``, ``anti_passback``
    or ``challenge_failures``: :data:`facegate.domain.gate.ALARM_KINDS`).

    A client reconnects after the stream ends (browsers' EventSource does so itself).
    """
    context = context_for(deps, principal)
    activity.open_event_stream(context)
    start = since or deps.clock.now()
    feed = deps.alarms.feed if deps.alarms is not None else None
    return StreamingResponse(
        _stream(context, _metrics(request, deps), duration_s, start, feed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
    )


def _metrics(request: Request, deps: ServerDeps) -> Metrics:
    counters: Metrics = request.app.state.metrics
    return counters
