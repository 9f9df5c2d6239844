"""Real libosdp peripheral devices in the test process, on an in-memory RS-485 line.

As libosdp's own tests do (tests/pytest/conftest.py there: a bus simulated in memory),
:class:`Line` is a multidrop line: what the control panel writes reaches every device,
what a device writes reaches the control panel. :meth:`Line.unplug` cuts one device off.
:func:`start_pd` runs a real ``osdp.PeripheralDevice`` (a reader, an output board).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from support import wait_for  # noqa: F401  (re-exported for the OSDP tests)

osdp = pytest.importorskip("osdp", reason="libosdp is not installed (extra 'osdp')")


class _End:
    def __init__(self, line: Line, index: int) -> None:
        self.id, self.line, self.index = 0, line, index

    def read(self, max_bytes: int) -> bytes:
        return self.line.read(self.index, max_bytes)

    def write(self, buf: bytes) -> int:
        return self.line.write(self.index, bytes(buf))

    def flush(self) -> None:
        self.line.drain(self.index)


class Line:
    """A multidrop line: index 0 is the control panel, 1.. the devices."""

    def __init__(self, devices: int) -> None:
        self._lock = threading.Lock()
        self._inboxes = [bytearray() for _ in range(devices + 1)]
        self.cut: set[int] = set()

    def end(self, index: int) -> _End:
        return _End(self, index)

    def write(self, index: int, data: bytes) -> int:
        with self._lock:
            if index in self.cut:
                return len(data)
            if index == 0:
                for device, inbox in enumerate(self._inboxes[1:], start=1):
                    if device not in self.cut:
                        inbox.extend(data)
            else:
                self._inboxes[0].extend(data)
        return len(data)

    def read(self, index: int, max_bytes: int) -> bytes:
        with self._lock:
            if index in self.cut:
                return b""
            inbox = self._inboxes[index]
            data = bytes(inbox[:max_bytes])
            del inbox[:max_bytes]
            return data

    def drain(self, index: int) -> None:
        with self._lock:
            self._inboxes[index].clear()

    def unplug(self, index: int) -> None:
        with self._lock:
            self.cut.add(index)


READER_CAPS = [
    (osdp.Capability.LEDControl, 1, 1),
    (osdp.Capability.AudibleControl, 1, 1),
    (osdp.Capability.TextOutput, 1, 1),
    (osdp.Capability.ContactStatusMonitoring, 1, 4),
    (osdp.Capability.CardDataFormat, 1, 1),
]
BOARD_CAPS = [
    (osdp.Capability.OutputControl, 1, 4),
    (osdp.Capability.ContactStatusMonitoring, 1, 4),
]


def start_pd(line: Line, index: int, address: int, key: bytes, caps: list[Any]) -> Any:
    """A running peripheral device at ``address`` that enforces Secure Channel with ``key``."""
    info = osdp.PDInfo(address, line.end(index), scbk=key, flags=[osdp.LibFlag.EnforceSecure])
    device = osdp.PeripheralDevice(info, osdp.PDCapabilities(caps), log_level=osdp.LogLevel.Error)
    device.start()
    return device


def card_read(data: bytes) -> dict[str, Any]:
    """A raw (Wiegand) card read event of ``data``."""
    return {
        "event": osdp.Event.CardRead,
        "reader_no": 0,
        "direction": 0,
        "length": len(data) * 8,
        "format": osdp.CardFormat.Wiegand,
        "data": data,
    }


def commands(device: Any, wanted: int, timeout_s: float = 3.0) -> list[dict[str, Any]]:
    """Commands of kind ``wanted`` the device received within ``timeout_s`` (at least one)."""
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        command = device.get_command(timeout=0.1)
        if command is None:
            if found:
                return found
            continue
        if command.get("command") == wanted:
            found.append(command)
    return found
