"""One door's OSDP reader at the gate: cards and PINs in, LED, buzzer and text out.

:class:`OsdpDoor` is the :class:`~facegate.gate.osdp.OsdpListener` of a gate's bus:

- a card read goes to the door controller (:meth:`DoorController.read_card`: at once on
  an ``any_of`` door, else it waits for the face, or for the PIN on a card-and-PIN door),
  under the controller's ``guard`` like every decision step of the camera's frames;
- keypad keys collect into a PIN, sent on ``#`` (or CR) and cleared by ``*`` (or DEL);
  a PIN is only ever a second factor (:meth:`DoorController.read_pin`);
- the door contact input (``contact_input``) feeds the contact monitor (forced and held
  open alarms), a fire panel's dry contact (``fire_input``) raises ``fire`` at this gate
  without the server (:mod:`facegate.gate.site_mode`);
- a device going offline is a ``device_offline`` alarm, back online a ``device_online``
  event.

Every decision of the door (face, card or PIN) shows on the reader: granted, the green
LED for the unlock time and one beep; denied, the red LED, two beeps and the reason on
the text display where the reader has one.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from facegate.domain.clock import Clock
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.gate.controller import DoorController, Outcome
from facegate.gate.fire_input import apply_fire_input
from facegate.gate.osdp import OsdpBus
from facegate.gate.site_mode import LocalInputs

ENTER = frozenset(b"#\r")
"""Keys that send the PIN typed so far."""
CLEAR = frozenset(b"*\x7f")
"""Keys that clear it."""
MAX_PIN_DIGITS = 12
"""Longest PIN kept; longer input is cut (digits)."""
GREEN, RED = 2, 1
"""OSDP LED colours."""


@dataclass(frozen=True, slots=True)
class OsdpDoorWiring:
    """What is wired where for one door.

    Attributes:
        reader: the reader's OSDP address.
        contact_input: the input of the reader (or board) the door contact is on.
        fire_input: the input a fire panel's dry contact is on (active: fire).
        unlock_s: how long the green LED shows on a grant (seconds, the unlock time).
    """

    reader: int
    contact_input: int | None = None
    fire_input: int | None = None
    unlock_s: float = 5.0


class OsdpDoor:
    """The listener of one door's OSDP devices (see the module docstring).

    Args:
        controller: the door controller.
        wiring: addresses and input numbers.
        clock: the time source.
        record: where events go (the outbox's ``put``).
        ids: ``(gate_id, door_id)`` for events.
        contact: the contact monitor's ``contact`` (``"open"``/``"closed"``), if wired.
        local: the gate's local inputs (for the fire contact).
        fire_changed: told of each fire input change (records the ``fire_input`` alarm).
    """

    def __init__(
        self,
        controller: DoorController,
        wiring: OsdpDoorWiring,
        clock: Clock,
        record: Callable[[GateEvent], None],
        ids: tuple[str, str],
        contact: Callable[[str], None] | None = None,
        local: LocalInputs | None = None,
        fire_changed: Callable[[str, bool], None] | None = None,
    ) -> None:
        self.controller, self.wiring, self.clock, self.record = controller, wiring, clock, record
        self.gate_id, self.door_id = ids
        self.contact, self.local, self.fire_changed = contact, local, fire_changed
        self.bus: OsdpBus | None = None
        self._typed: dict[int, str] = {}
        self._inputs: dict[tuple[int, int], bool] = {}
        self._lock = threading.Lock()
        controller.on_decision.append(self.show)

    # -- from the devices --------------------------------------------------------------

    def card(self, address: int, number: str) -> None:
        """A card read: to the controller, under its ``guard`` (the camera decides there too)."""
        with self.controller.guard:
            self.controller.read_card(number)

    def keys(self, address: int, data: bytes) -> None:
        """Keypad keys: collect digits, send the PIN on enter."""
        for key in data:
            with self._lock:
                typed = self._typed.get(address, "")
                if key in CLEAR:
                    self._typed.pop(address, None)
                    continue
                if key not in ENTER:
                    if chr(key).isdigit():
                        self._typed[address] = (typed + chr(key))[-MAX_PIN_DIGITS:]
                    continue
                self._typed.pop(address, None)
            if typed:
                with self.controller.guard:
                    self.controller.read_pin(typed)

    def inputs(self, address: int, states: tuple[bool, ...]) -> None:
        """Input states: the door contact and the fire contact, on change."""
        for number, active in enumerate(states):
            with self._lock:
                before = self._inputs.get((address, number))
                self._inputs[(address, number)] = active
            if before == active:
                continue
            if number == self.wiring.contact_input and self.contact is not None:
                self.contact("open" if active else "closed")
            if number == self.wiring.fire_input and self.local is not None:
                name = f"osdp:{address}:input{number}"
                apply_fire_input(self.local, name, active, self.fire_changed or _ignore)

    def online(self, address: int, up: bool) -> None:
        """A device went offline (alarm) or came back (event)."""
        kind = GateEventKind.DEVICE_ONLINE if up else GateEventKind.DEVICE_OFFLINE
        note = f"OSDP device {address} {'online' if up else 'offline'}"
        event = GateEvent(
            str(uuid.uuid4()), self.gate_id, kind, self.door_id, self.clock.now(), note=note
        )
        self.record(event)

    # -- to the reader -----------------------------------------------------------------

    def show(self, outcome: Outcome) -> None:
        """Show a decision on the reader: LED, buzzer, text."""
        if self.bus is None:
            return
        decision = outcome.decision
        granted = decision.granted
        seconds = self.wiring.unlock_s if granted else 2.0
        tenths = max(1, round(seconds * 10))
        reader = self.wiring.reader
        self.bus.send(reader, _led(GREEN if granted else RED, tenths))
        self.bus.send(reader, _beeps(1 if granted else 2))
        text = "Welcome" if granted else decision.reason.value.replace("_", " ")
        self.bus.send(reader, _text(text, tenths))


def _ignore(_name: str, _active: bool) -> None:
    """No one to tell."""


def _led(color: int, tenths: int) -> dict[str, object]:
    return {
        "command": 2,  # osdp.Command.LED
        "reader": 0,
        "led_number": 0,
        "control_code": 1,
        "on_count": tenths,
        "off_count": 0,
        "on_color": color,
        "off_color": 0,
        "timer_count": tenths,
        "temporary": True,
    }


def _beeps(count: int) -> dict[str, object]:
    return {
        "command": 3,  # osdp.Command.Buzzer
        "reader": 0,
        "control_code": 2,
        "on_count": 2,
        "off_count": 1,
        "rep_count": count,
    }


def _text(text: str, tenths: int) -> dict[str, object]:
    return {
        "command": 4,  # osdp.Command.Text
        "reader": 0,
        "control_code": 1,
        "temp_time": max(1, tenths // 10),
        "offset_row": 1,
        "offset_col": 1,
        "data": text[:32],
    }
