"""Door contact supervision: door-forced-open and door-held-open alarms.

The contact sensor says ``open`` or ``closed``. The door opening while the gate has not
unlocked it is *forced open*; the door staying open longer than ``held_open_s`` after
it opened, or after its unlock ended if that is later, is *held open* (a door held open
by the site mode, whose unlock is renewed every second, is never held open). Each raises
one alarm event per opening.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from facegate.domain.clock import Clock
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.gate.outbox import SqliteOutbox
from facegate.ports import ActuatorCommand, DoorActuator


class ContactMonitor:
    """Watches one door's contact sensor against the gate's unlocks.

    Args:
        clock: the time source.
        held_open_s: how long the door may stay open (seconds, typical 30).
        alarm: called with the alarm's kind when one is raised.
        on_closed: called when the door closes after it was open (the door controller's
            :meth:`facegate.gate.controller.DoorController.door_cycled`).
    """

    def __init__(
        self,
        clock: Clock,
        held_open_s: float,
        alarm: Callable[[GateEventKind], None],
        on_closed: Callable[[], None] | None = None,
    ) -> None:
        self._clock = clock
        self._held_open = timedelta(seconds=held_open_s)
        self._alarm = alarm
        self.on_closed = on_closed
        self._lock = threading.Lock()
        self._unlocked_until: datetime | None = None
        self._opened_at: datetime | None = None
        self._held_reported = False
        self._last_state = "unknown"

    @property
    def state(self) -> str:
        """The sensor's last report: ``open``, ``closed``, or ``unknown`` before the first."""
        with self._lock:
            return self._last_state

    def unlocked(self, duration_s: float) -> None:
        """The gate unlocked the door for ``duration_s`` seconds from now."""
        with self._lock:
            self._unlocked_until = self._clock.now() + timedelta(seconds=duration_s)

    def contact(self, state: str) -> None:
        """The sensor reported ``"open"`` or ``"closed"``."""
        now = self._clock.now()
        forced = cycled = False
        with self._lock:
            if state in ("open", "closed"):
                self._last_state = state
            if state == "closed":
                cycled = self._opened_at is not None
                self._opened_at, self._held_reported = None, False
            elif state == "open" and self._opened_at is None:
                self._opened_at = now
                forced = self._unlocked_until is None or now > self._unlocked_until
        if forced:
            self._alarm(GateEventKind.DOOR_FORCED_OPEN)
        if cycled and self.on_closed is not None:
            self.on_closed()

    def tick(self) -> None:
        """Check the held-open limit (call about once a second)."""
        with self._lock:
            opened, reported = self._opened_at, self._held_reported
            if opened is None or reported:
                return
            since = max(opened, self._unlocked_until or opened)
            if self._clock.now() - since <= self._held_open:
                return
            self._held_reported = True
        self._alarm(GateEventKind.DOOR_HELD_OPEN)


class MonitoredDoor:
    """A door actuator that tells its :class:`ContactMonitor` about every unlock.

    Args:
        inner: the real actuator.
        monitor: the contact monitor of the same door.
    """

    def __init__(self, inner: DoorActuator, monitor: ContactMonitor) -> None:
        self.inner, self.monitor = inner, monitor

    def send(self, command: ActuatorCommand) -> None:
        """Send ``command``; once acknowledged, the door may open for its duration."""
        self.inner.send(command)
        self.monitor.unlocked(command.duration_s)

    def close(self) -> None:
        """Close the inner actuator."""
        self.inner.close()


def alarm_to_outbox(
    outbox: SqliteOutbox, clock: Clock, gate_id: str, door_id: str
) -> Callable[[GateEventKind], None]:
    """An alarm callback for :class:`ContactMonitor` that puts each alarm in ``outbox``."""

    def alarm(kind: GateEventKind) -> None:
        outbox.put(GateEvent(str(uuid.uuid4()), gate_id, kind, door_id, clock.now()))

    return alarm
