"""The site mode at the gate: the push, a local fire input, doors held open in open modes.

The server's mode reaches the gate two ways: pushed (:class:`ModeFollower`, a long poll
on the gate's upstream: the gate decides in a new mode as soon as the server answers,
then fetches the snapshot that carries it), and inside its snapshot (the poll every
``sync_interval_s``, 1 s), which stays the fallback when the push fails. Two things
happen at the gate itself:

- :class:`LocalInputs`: a fire panel wired to the gate (the MQTT fire topic,
  :class:`facegate.gate.fire_input.MqttFireInput`, or a dry contact on an OSDP input)
  raises ``fire`` here without the server. The gate decides in the strongest of the
  snapshot's mode and its local inputs (:func:`facegate.domain.site_mode.strongest`):
  a local fire outranks a lockdown from the server.
- :class:`OpenDoorKeeper`: while the mode in force opens doors freely (``free_passage``,
  ``fire``), the door is unlocked at once and the unlock renewed about every second
  (each command lasts ``hold_s``), no face needed; a lift enables all its floors. When
  the mode ends, the renewals stop and the door locks itself after ``hold_s``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from facegate.domain.clock import Clock
from facegate.domain.errors import ActuatorFailedError, FacegateError, UpstreamBusyError
from facegate.domain.gate import GateEvent, GateEventKind, GateSnapshot
from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import strongest
from facegate.ports import ActuatorCommand, DoorActuator

log = logging.getLogger(__name__)

PUSH_WAIT_S = 25.0
"""How long one long poll for a mode change waits at the upstream (seconds)."""
PUSH_RETRY_S = (1.0, 30.0)
"""First and longest pause after a failed long poll (seconds; doubles in between)."""

HOLD_S = 3.0
"""How long each renewal of a held-open door lasts (seconds); renewed about every 1 s."""


class LocalInputs:
    """Modes raised by inputs at this gate (fire panel contacts), by input name; thread-safe.

    Args:
        on_change: called (from the input's thread) after an input changed.
    """

    def __init__(self, on_change: Callable[[], None] | None = None) -> None:
        self._active: dict[str, SiteMode] = {}
        self._lock = threading.Lock()
        self.on_change = on_change

    def set(self, name: str, mode: SiteMode | None) -> bool:
        """Input ``name`` asks for ``mode`` (``None``, ``normal``: clear); whether it changed."""
        with self._lock:
            before = self._active.get(name)
            if mode is None or mode is SiteMode.NORMAL:
                self._active.pop(name, None)
            else:
                self._active[name] = mode
            changed = before != self._active.get(name)
        if changed:
            log.warning("local input %s: %s", name, "clear" if mode is None else mode.value)
            if self.on_change is not None:
                self.on_change()
        return changed

    def mode(self) -> SiteMode:
        """The strongest mode the local inputs ask for (``normal`` when none)."""
        with self._lock:
            return strongest(*self._active.values())


def with_local_mode(snapshot: GateSnapshot, local: SiteMode) -> GateSnapshot:
    """``snapshot`` deciding in the strongest of its own mode and ``local``."""
    mode = strongest(snapshot.access.mode, local)
    if mode is snapshot.access.mode:
        return snapshot
    return replace(snapshot, access=replace(snapshot.access, mode=mode))


class OpenDoorKeeper:
    """Holds the door open (or a lift's floors enabled) while the mode opens doors freely.

    Call :meth:`apply` about once a second (the sync thread's tick) and whenever the mode
    may have changed (a new snapshot, a local input). A door that cannot be held open is
    an ``actuator_failed`` alarm through ``record``, once per outage.

    Args:
        snapshot: the snapshot the gate decides from (with local inputs applied).
        actuator: the door or lift.
        clock: the time source.
        record: where events go (the outbox's ``put``).
        gate_id: this gate.
        hold_s: how long each renewal lasts (seconds, default :data:`HOLD_S`).
    """

    def __init__(
        self,
        snapshot: Callable[[], GateSnapshot],
        actuator: DoorActuator,
        clock: Clock,
        record: Callable[[GateEvent], None],
        gate_id: str,
        hold_s: float = HOLD_S,
    ) -> None:
        self.snapshot, self.actuator, self.clock = snapshot, actuator, clock
        self.record, self.gate_id, self.hold_s = record, gate_id, hold_s
        self.mode = SiteMode.NORMAL
        self.failing = False
        self._lock = threading.Lock()

    def apply(self) -> None:
        """Renew the open door now if the mode in force opens doors freely."""
        with self._lock:
            snapshot = self.snapshot()
            mode = snapshot.access.mode
            if mode is not self.mode:
                log.warning("site mode at %s: %s -> %s", self.gate_id, self.mode, mode)
                self.mode = mode
            if not mode.opens_freely:
                return
            target = snapshot.target
            command = ActuatorCommand(
                str(uuid.uuid4()),
                "floors" if target.is_lift else "unlock",
                self.hold_s,
                target.floors,
            )
            try:
                self.actuator.send(command)
            except ActuatorFailedError as err:
                self._failed(target.id, str(err))
                return
            self.failing = False

    def _failed(self, target_id: str, why: str) -> None:
        if self.failing:
            return  # one alarm per outage
        self.failing = True
        log.error("door %s not held open in %s: %s", target_id, self.mode, why)
        note = f"holding open in {self.mode.value}: {why}"[:500]
        event = GateEvent(
            str(uuid.uuid4()),
            self.gate_id,
            GateEventKind.ACTUATOR_FAILED,
            target_id,
            self.clock.now(),
            note=note,
        )
        self.record(event)


class ModeWaiter(Protocol):
    """An upstream that can wait for the site mode to change."""

    def wait_mode(self, gate_id: str, known: SiteMode | None, wait_s: float) -> SiteMode:
        """The mode as soon as it differs from ``known``, or after ``wait_s``."""
        ...


class ModeFollower(threading.Thread):
    """Follows the server's site mode by long polls; hands each change to ``push``.

    The poll of the snapshot stays the fallback: a failed long poll is logged (once per
    outage) and tried again after a pause that doubles from :data:`PUSH_RETRY_S`'s first
    to its last value; the gate meanwhile learns modes from its snapshot polls. A server
    that asks the gate to wait (``429``, ``503`` with ``Retry-After``) is asked again
    after that wait (at least the first pause), unlogged.

    Args:
        upstream: the gate's upstream (``wait_mode``).
        gate_id: this gate.
        known: the mode the gate decides in now, as the server set it (``None``: unknown).
        push: called with each new mode (the snapshot holder's ``push_mode``).
        wait_s: how long each long poll waits (seconds).
    """

    def __init__(
        self,
        upstream: ModeWaiter,
        gate_id: str,
        known: Callable[[], SiteMode | None],
        push: Callable[[SiteMode], None],
        wait_s: float = PUSH_WAIT_S,
    ) -> None:
        super().__init__(name="facegate-mode-push", daemon=True)
        self.upstream, self.gate_id, self.known, self.push = upstream, gate_id, known, push
        self.wait_s = wait_s
        self.changes = 0
        self._halt = threading.Event()

    def run(self) -> None:
        """Long-poll until stopped."""
        pause = PUSH_RETRY_S[0]
        while not self._halt.is_set():
            known = self.known()
            try:
                mode = self.upstream.wait_mode(self.gate_id, known, self.wait_s)
            except UpstreamBusyError as err:  # asked to wait (429, 503): not an outage
                self._halt.wait(max(err.retry_after_s, PUSH_RETRY_S[0]))
                continue
            except (FacegateError, ValueError, OSError) as err:
                if pause == PUSH_RETRY_S[0]:
                    log.warning("mode push unavailable (the snapshot poll goes on): %s", err)
                self._halt.wait(pause)
                pause = min(pause * 2.0, PUSH_RETRY_S[1])
                continue
            except Exception:  # the follower logs everything and goes on
                log.exception("mode push failed; the snapshot poll goes on")
                self._halt.wait(PUSH_RETRY_S[1])
                continue
            pause = PUSH_RETRY_S[0]
            if mode is not known and not self._halt.is_set():
                self.changes += 1
                self.push(mode)

    def stop(self) -> None:
        """Ask the thread to end (it may finish its current long poll first)."""
        self._halt.set()
