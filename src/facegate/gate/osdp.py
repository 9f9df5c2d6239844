"""OSDP (IEC 60839-11-5) readers and output boards, with facegate as the control panel.

An adapter over the ``libosdp`` package (extra ``osdp``): one :class:`OsdpBus` drives the
peripheral devices (PDs) on one channel, a serial RS-485 line (:class:`SerialChannel`,
pyserial) or a TCP serial server (:class:`TcpChannel`). Secure Channel is enforced on
every device with its own base key (:mod:`facegate.gate.osdp_keys`): a device that does
not hold the key never comes online, and nothing it sends is read.

What comes in goes to an :class:`OsdpListener`: card reads (raw formats as upper-case
hex of the card's bytes, ASCII as text), keypad bytes, input states (door contact, fire
panel dry contact) and a device going offline or online. What goes out: the output
board's relay (:meth:`OsdpBus.pulse`, acknowledged, else
:class:`~facegate.domain.errors.ActuatorFailedError`), and the reader's LED, buzzer and
text display (fire and forget: a reader that misses them does not change a decision).
:class:`OsdpRelay` is the door actuator on an output board. Wiegand inputs (the reader's
data lines on GPIO) are out of scope.
"""

from __future__ import annotations

import importlib
import logging
import queue
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from facegate.domain.errors import ActuatorFailedError, BadInputError
from facegate.ports import ActuatorCommand

log = logging.getLogger(__name__)

TEMPORARY_ON = 5
"""OSDP output control code: on for ``timer_count`` units of 100 ms, then off."""
CARD_ASCII = 2
"""libosdp's card format code for ASCII card data (the others are raw bits)."""


def _osdp() -> Any:
    """The ``osdp`` module of libosdp (the optional extra), imported on first use."""
    try:
        return importlib.import_module("osdp")
    except ImportError as err:
        raise BadInputError("OSDP needs the 'osdp' extra: pip install 'facegate[osdp]'") from err


class OsdpListener(Protocol):
    """Where a bus delivers what its devices report (called from the bus's thread)."""

    def card(self, address: int, number: str) -> None:
        """A card was read at the reader ``address``."""
        ...

    def keys(self, address: int, data: bytes) -> None:
        """Keys were pressed on the reader's keypad (ASCII digits, ``#``/CR, ``*``/DEL)."""
        ...

    def inputs(self, address: int, states: tuple[bool, ...]) -> None:
        """The device's inputs, active or not, by input number."""
        ...

    def online(self, address: int, up: bool) -> None:
        """The device came online (Secure Channel up) or went offline."""
        ...


@dataclass(frozen=True, slots=True)
class OsdpDevice:
    """One peripheral device on the bus.

    Attributes:
        address: its OSDP address (0-126).
        key: its Secure Channel base key (16 bytes).
        name: for logs and events.
    """

    address: int
    key: bytes
    name: str


class TcpChannel:
    """An OSDP channel over TCP (an RS-485-to-Ethernet serial server); reconnects itself.

    Args:
        host: the serial server.
        port: its TCP port for the RS-485 line.
        timeout_s: connection timeout (seconds).
    """

    def __init__(self, host: str, port: int, timeout_s: float = 2.0) -> None:
        self.id = 0
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._socket: socket.socket | None = None

    def _connected(self) -> socket.socket | None:
        if self._socket is None:
            try:
                link = socket.create_connection((self.host, self.port), self.timeout_s)
            except OSError:
                return None
            link.setblocking(False)
            self._socket = link
        return self._socket

    def _drop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None

    def read(self, max_bytes: int) -> bytes:
        """What arrived, at most ``max_bytes`` (empty when nothing did)."""
        link = self._connected()
        if link is None:
            return b""
        try:
            data = link.recv(max_bytes)
        except BlockingIOError:
            return b""
        except OSError:
            self._drop()
            return b""
        if not data:
            self._drop()
        return data

    def write(self, buf: bytes) -> int:
        """Send ``buf``; how much went (0 while disconnected)."""
        link = self._connected()
        if link is None:
            return 0
        try:
            return link.send(buf)
        except BlockingIOError:
            return 0
        except OSError:
            self._drop()
            return 0

    def flush(self) -> None:
        """Drop what is waiting to be read."""
        while self.read(4096):
            pass

    def close(self) -> None:
        """Disconnect."""
        self._drop()


class SerialChannel:
    """An OSDP channel on a serial port (RS-485 adapter), via pyserial.

    Args:
        port: the device, e.g. ``/dev/ttyUSB0``.
        baud: the line speed (OSDP: 9600 by default, up to 115200).

    Raises:
        BadInputError: pyserial is missing or the port cannot be opened.
    """

    def __init__(self, port: str, baud: int = 9600) -> None:
        self.id = 0
        try:
            serial = importlib.import_module("serial")
            self._port = serial.Serial(port, baud, timeout=0, write_timeout=0)
        except (ImportError, OSError, ValueError) as err:
            raise BadInputError(f"OSDP serial port {port!r}: {err}") from err

    def read(self, max_bytes: int) -> bytes:
        """What arrived, at most ``max_bytes``."""
        return bytes(self._port.read(max_bytes))

    def write(self, buf: bytes) -> int:
        """Send ``buf``; how much went."""
        return int(self._port.write(buf) or 0)

    def flush(self) -> None:
        """Drop what is waiting to be read."""
        self._port.reset_input_buffer()

    def close(self) -> None:
        """Release the port."""
        self._port.close()


def open_channel(spec: str) -> TcpChannel | SerialChannel:
    """A channel from its setting: ``tcp:HOST:PORT`` or ``serial:DEVICE[:BAUD]``.

    Raises:
        BadInputError: another form.
    """
    kind, _, rest = spec.partition(":")
    if kind == "tcp":
        host, _, port = rest.rpartition(":")
        if host and port.isdigit():
            return TcpChannel(host, int(port))
    if kind == "serial" and rest:
        device, _, baud = rest.partition(":")
        if not baud or baud.isdigit():
            return SerialChannel(device, int(baud or 9600))
    raise BadInputError(f"OSDP channel {spec!r}: expected tcp:HOST:PORT or serial:DEVICE[:BAUD]")


class OsdpBus:
    """The control panel of the devices on one channel (libosdp's ``ControlPanel``).

    Nothing is read before :meth:`start`; set ``listener`` first. libosdp calls back from
    its own thread while it holds the panel's lock, so reports are queued and passed to
    the listener on the bus's own thread (a listener may then send commands).

    Args:
        channel: the line (:func:`open_channel`, or an in-memory pair in tests).
        devices: the devices on it, each with its key.
        listener: where their reports go.
    """

    def __init__(
        self,
        channel: object,
        devices: Sequence[OsdpDevice],
        listener: OsdpListener | None = None,
    ) -> None:
        osdp = _osdp()
        self._osdp, self.listener = osdp, listener
        self.addresses = [device.address for device in devices]
        flags = [osdp.LibFlag.EnforceSecure, osdp.LibFlag.EnableNotification]
        infos = [
            osdp.PDInfo(d.address, channel, scbk=d.key, name=d.name, flags=flags) for d in devices
        ]
        self._waiting: dict[int, list[tuple[int, threading.Event, list[int]]]] = {}
        self._lock = threading.Lock()
        self._reports: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._deliver, name="facegate-osdp", daemon=True)
        self._panel = osdp.ControlPanel(
            infos,
            log_level=osdp.LogLevel.Warning,
            event_handler=self._event,
            command_completion_handler=self._completed,
        )

    def start(self) -> None:
        """Start talking to the devices (a thread of libosdp's, every 20 ms)."""
        self._worker.start()
        self._panel.start()

    def _deliver(self) -> None:
        while (report := self._reports.get()) is not None:
            try:
                self._dispatch(*report)
            except Exception:  # a listener's failure must not stop the bus
                log.exception("OSDP event %r not handled", report[1].get("event"))

    def online(self, address: int) -> bool:
        """Whether the device is online with Secure Channel up."""
        return bool(self._panel.is_online(address) and self._panel.is_sc_active(address))

    def pulse(self, address: int, output_no: int, duration_s: float, timeout_s: float) -> None:
        """Switch the output on for ``duration_s`` and wait for the device's acknowledgement.

        Raises:
            ActuatorFailedError: the device is offline, refused the command, or did not
                acknowledge it within ``timeout_s``.
        """
        tenths = max(1, min(65535, round(duration_s * 10)))
        command = {
            "command": self._osdp.Command.Output,
            "output_no": output_no,
            "control_code": TEMPORARY_ON,
            "timer_count": tenths,
        }
        status = self._submit_and_wait(address, command, timeout_s)
        if status != self._osdp.CompletionStatus.Ok:
            raise ActuatorFailedError(f"OSDP device {address} refused the output command")

    def _submit_and_wait(self, address: int, command: dict[str, Any], timeout_s: float) -> int:
        if not self.online(address):
            raise ActuatorFailedError(f"OSDP device {address} is offline")
        done, status = threading.Event(), [-1]
        with self._lock:
            self._waiting.setdefault(address, []).append((command["command"], done, status))
            queued = self._panel.submit_command(address, command)
        if not queued or not done.wait(timeout_s):
            with self._lock:
                self._waiting[address] = [w for w in self._waiting[address] if w[1] is not done]
            raise ActuatorFailedError(f"OSDP device {address} did not acknowledge in time")
        return status[0]

    def send(self, address: int, command: dict[str, Any]) -> bool:
        """Queue ``command`` without waiting (LED, buzzer, text); whether it was queued."""
        if not self.online(address):
            return False
        return bool(self._panel.submit_command(address, command))

    def _completed(self, address: int, command: dict[str, Any], status: int) -> None:
        with self._lock:
            waiting = self._waiting.get(address, [])
            for index, (kind, done, slot) in enumerate(waiting):
                if kind == command.get("command"):
                    slot[0] = status
                    done.set()
                    del waiting[index]
                    return

    def _event(self, pd_index: int, event: dict[str, Any]) -> int:
        """The event callback of libosdp: queue it for the bus's thread (never blocks)."""
        self._reports.put((self.addresses[pd_index], event))
        return 0

    def _dispatch(self, address: int, event: dict[str, Any]) -> None:
        if self.listener is None:
            return
        kinds = self._osdp.Event
        kind = event.get("event")
        if kind == kinds.CardRead:
            data = bytes(event.get("data", b""))
            ascii_card = event.get("format") == CARD_ASCII
            number = data.decode("ascii", "replace") if ascii_card else data.hex().upper()
            self.listener.card(address, number)
        elif kind == kinds.KeyPress:
            self.listener.keys(address, bytes(event.get("data", b"")))
        elif kind == kinds.Status and event.get("type") == self._osdp.StatusReportType.Input:
            self.listener.inputs(address, tuple(bool(b) for b in bytes(event["report"])))
        elif kind == kinds.Notification:
            peer = self._osdp.EventNotification.PeripheralDeviceStatus
            if event.get("type") == peer:
                self.listener.online(address, bool(event.get("arg0")))

    def close(self) -> None:
        """Stop the control panel and the bus's thread."""
        self._panel.teardown()
        self._reports.put(None)
        if self._worker.is_alive():
            self._worker.join(timeout=5.0)


class OsdpRelay:
    """A door strike on an OSDP output board: the door's actuator.

    Args:
        bus: the bus the board is on.
        address: the board's address.
        output_no: the relay's output number (from 0).
        ack_timeout_s: how long an unlock may wait for the board (seconds).
    """

    def __init__(self, bus: OsdpBus, address: int, output_no: int, ack_timeout_s: float) -> None:
        self.bus, self.address, self.output_no = bus, address, output_no
        self.ack_timeout_s = ack_timeout_s

    def send(self, command: ActuatorCommand) -> None:
        """Pulse the relay for the command's duration; acknowledged, or it raises.

        Raises:
            ActuatorFailedError: not acknowledged, or a lift command (an output board
                drives a strike, not lift floors).
        """
        if command.action != "unlock":
            raise ActuatorFailedError("an OSDP output board drives a door strike, not a lift")
        self.bus.pulse(self.address, self.output_no, command.duration_s, self.ack_timeout_s)

    def close(self) -> None:
        """The bus is closed by its owner."""
