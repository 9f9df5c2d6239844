"""One alarm service: every alarm of the site, each with its own type, on every channel.

An alarm is a :class:`facegate.domain.gate.GateEvent` of a kind in
:data:`facegate.domain.gate.ALARM_KINDS`: an alert-list hit (``alert_list``), a door
forced or held open (``door_forced_open``, ``door_held_open``, from the door contact), an
actuator that did not acknowledge (``actuator_failed``), a gate gone silent
(``gate_silent``), a fire panel input at a gate going active or clear (``fire_input``)
a gate's OSDP reader or output board going offline (``device_offline``), more
people crossing a door than it granted (``tailgating``), a zone's anti-passback
(``anti_passback``) and repeated failed challenges at a kiosk door
(``challenge_failures``).
Gates put their alarms in their outbox like their decisions; where
the events arrive (the site server's gate endpoint, or a store upstream wrapped in
:class:`AlarmRelay`), :class:`AlarmService` raises each once (by its key) on its
channels: the site's MQTT alarm topic (:class:`facegate.messaging.mqtt_alarms.MqttAlarmPublisher`),
the webhook (:class:`facegate.messaging.webhook.WebhookNotifier`) and the console's event
stream (:class:`AlarmFeed`). The channels are called from one worker thread, so a slow
webhook never holds up a decision or a gate's delivery; a failing channel is logged and
the others still get the alarm.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Sequence

from facegate.domain.clock import Clock
from facegate.domain.gate import (
    ALARM_KINDS,
    GateEvent,
    GateEventKind,
    GateReport,
    GateSnapshot,
)
from facegate.ports import GateUpstream

log = logging.getLogger(__name__)

AlarmChannel = Callable[[dict[str, str]], None]
"""Takes one alarm's JSON-ready payload (:func:`alarm_payload`)."""

SEEN_KEYS = 10_000
"""How many alarm keys are remembered to raise a redelivered alarm only once."""


def alarm_payload(event: GateEvent) -> dict[str, str]:
    """The JSON-ready message of an alarm (no names: ids only).

    Keys: ``event`` (always ``alarm``), ``type`` (the kind), ``key``, ``gate_id``,
    ``door_id``, ``occurred_at`` (ISO 8601, UTC), ``person_id`` (empty when none),
    ``note``.
    """
    return {
        "event": "alarm",
        "type": event.kind.value,
        "key": event.key,
        "gate_id": event.gate_id,
        "door_id": event.door_id,
        "occurred_at": event.occurred_at.isoformat(),
        "person_id": event.person_id or "",
        "note": event.note,
    }


class AlarmFeed:
    """The latest alarms in memory, numbered, for the console's live event stream.

    Args:
        size: how many alarms are kept (older ones drop out).
    """

    def __init__(self, size: int = 1000) -> None:
        self._items: deque[tuple[int, dict[str, str]]] = deque(maxlen=size)
        self._seq = 0
        self._lock = threading.Lock()

    def __call__(self, payload: dict[str, str]) -> None:
        """Add one alarm (an :data:`AlarmChannel`)."""
        with self._lock:
            self._seq += 1
            self._items.append((self._seq, payload))

    @property
    def last(self) -> int:
        """The number of the newest alarm (0 before any)."""
        with self._lock:
            return self._seq

    def after(self, seq: int) -> list[tuple[int, dict[str, str]]]:
        """The alarms numbered above ``seq``, oldest first."""
        with self._lock:
            return [item for item in self._items if item[0] > seq]


class AlarmService:
    """Raises alarms on every channel, each alarm once by its key.

    Args:
        channels: where alarms go (MQTT, webhook...), called from a worker thread.
        feed: the console's feed, updated at once (``None``: none).
        max_queued: alarms waiting for the channels beyond which new ones are only
            logged (the channels are too slow or down).
        record: stores each alarm raised, before the channels get it (the site's alarm
            log, acknowledged from the console:
            :func:`facegate.services.alarm_log.alarm_recorder`); ``None``: not stored.
    """

    def __init__(
        self,
        channels: Sequence[AlarmChannel],
        feed: AlarmFeed | None = None,
        max_queued: int = 1000,
        record: Callable[[GateEvent], None] | None = None,
    ) -> None:
        self.channels, self.feed, self.record = tuple(channels), feed, record
        self._queue: queue.Queue[dict[str, str] | None] = queue.Queue(max_queued)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def alarm(self, event: GateEvent) -> None:
        """Raise ``event`` (an :class:`facegate.gate.controller.AlarmSink`)."""
        self.raise_event(event)

    def raise_event(self, event: GateEvent) -> bool:
        """Raise ``event`` if it is an alarm not raised before; whether it was raised."""
        if event.kind not in ALARM_KINDS or not self._first(event.key):
            return False
        payload = alarm_payload(event)
        log.warning("ALARM %s at door %s (gate %s)", event.kind.value, event.door_id, event.gate_id)
        if self.record is not None:
            self.record(event)
        if self.feed is not None:
            self.feed(payload)
        if self.channels:
            self._start()
            try:
                self._queue.put_nowait(payload)
            except queue.Full:
                log.error(
                    "alarm %s not sent: %d alarms wait already", event.key, self._queue.qsize()
                )
        return True

    def relay(self, events: Iterable[GateEvent]) -> int:
        """Raise the alarms among ``events`` (delivered gate events); returns how many."""
        return sum(self.raise_event(event) for event in events)

    def drain(self, timeout_s: float = 5.0) -> bool:
        """Wait until the channels have been given every queued alarm (for tests, stop)."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout_s)

    def close(self) -> None:
        """Send what is queued, then end the worker."""
        if self._worker is not None:
            self.drain()
            self._queue.put(None)
            self._worker.join(timeout=5.0)
            self._worker = None

    def _first(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            while len(self._seen) > SEEN_KEYS:
                self._seen.popitem(last=False)
            return True

    def _start(self) -> None:
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="facegate-alarms", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            payload = self._queue.get()
            try:
                if payload is None:
                    return
                for channel in self.channels:
                    try:
                        channel(payload)
                    except Exception:  # one channel down must not silence the others
                        log.exception("alarm channel %r failed", channel)
            finally:
                self._queue.task_done()


class AlarmRelay:
    """A gate upstream that raises the alarms among the events it delivers.

    For the upstreams that store events themselves (the site server's own outbox, a
    gate on the site database): once the events are stored, their alarms are raised.

    Args:
        inner: the upstream.
        alarms: the alarm service.
    """

    def __init__(self, inner: GateUpstream, alarms: AlarmService) -> None:
        self.inner, self.alarms = inner, alarms

    def fetch_snapshot(self, gate_id: str, target_id: str) -> GateSnapshot:
        """The inner upstream's snapshot."""
        return self.inner.fetch_snapshot(gate_id, target_id)

    def poll_snapshot(
        self,
        gate_id: str,
        target_id: str,
        known_version: str | None,
        report: GateReport | None = None,
    ) -> GateSnapshot | None:
        """The inner upstream's poll (``None``: ``known_version`` is current)."""
        return self.inner.poll_snapshot(gate_id, target_id, known_version, report)

    def prepare(self, gate_id: str, target_ids: Sequence[str]) -> int:
        """The inner upstream's batched rebuild, when it has one (else nothing: 0)."""
        prepare = getattr(self.inner, "prepare", None)
        return 0 if prepare is None else int(prepare(gate_id, target_ids))

    def deliver(self, events: Sequence[GateEvent]) -> int:
        """Deliver ``events``, then raise their alarms (each once)."""
        new = self.inner.deliver(events)
        self.alarms.relay(events)
        return new

    def close(self) -> None:
        """Close the inner upstream when it has something to close."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()


class SilentGateWatch:
    """Raises ``gate_silent`` once when a gate goes silent, again only after it spoke.

    Args:
        silent: lists the gates silent now as ``(gate_id, door_id)`` pairs (from the
            gate-health data: gates whose last poll is too old).
        alarms: where the alarms go.
        clock: the time source.
    """

    def __init__(
        self,
        silent: Callable[[], Iterable[tuple[str, str]]],
        alarms: AlarmService,
        clock: Clock,
    ) -> None:
        self.silent, self.alarms, self.clock = silent, alarms, clock
        self._known: set[tuple[str, str]] = set()

    def check(self) -> list[str]:
        """Look once; returns the gates newly found silent (each raised as an alarm)."""
        now_silent = set(self.silent())
        new = sorted(now_silent - self._known)
        self._known = now_silent
        for gate_id, door_id in new:
            event = GateEvent(
                str(uuid.uuid4()),
                gate_id,
                GateEventKind.GATE_SILENT,
                door_id,
                self.clock.now(),
                note=f"gate {gate_id} stopped reporting",
            )
            self.alarms.raise_event(event)
        return [gate_id for gate_id, _ in new]

    def start(self, every_s: float) -> threading.Event:
        """Check every ``every_s`` seconds in a daemon thread; set the event to stop it.

        A failing check is logged and the next one still comes.
        """
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(every_s):
                try:
                    self.check()
                except Exception:  # the watch must outlive a failing health query
                    log.exception("silent-gate check failed")

        threading.Thread(target=run, name="facegate-silent-gates", daemon=True).start()
        return stop
