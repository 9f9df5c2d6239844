"""Door and lift actuators without a broker: the simulated door and the HTTP relay."""

from __future__ import annotations

import urllib.error
import urllib.request

from facegate.domain.errors import ActuatorFailedError
from facegate.ports import ActuatorCommand


class SimulatedDoor:
    """A door that acknowledges every command and remembers it (the quick start's door).

    Args:
        fail: when true, no command is acknowledged (to try the failure path).
    """

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.commands: list[ActuatorCommand] = []

    def send(self, command: ActuatorCommand) -> None:
        """Record ``command``; raise :class:`ActuatorFailedError` when set to fail."""
        if self.fail:
            raise ActuatorFailedError(f"simulated door did not acknowledge {command.request_id}")
        self.commands.append(command)

    def close(self) -> None:
        """Nothing to release."""


class HttpRelay:
    """A relay switched by an HTTP GET (Shelly, Tasmota and most network relays).

    The URL may hold ``{action}``, ``{duration_s}`` and ``{request_id}`` placeholders,
    e.g. ``http://10.0.0.7/relay/0?turn=on&timer={duration_s}`` for a Shelly. Any
    2xx answer within ``timeout_s`` is the acknowledgement.

    Args:
        url: the URL template.
        timeout_s: how long to wait for the answer (seconds).
    """

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s

    def send(self, command: ActuatorCommand) -> None:
        """Call the relay; any failure is :class:`ActuatorFailedError`."""
        url = self.url.format(
            action=command.action,
            duration_s=f"{command.duration_s:g}",
            request_id=command.request_id,
        )
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as answer:
                status = int(answer.status)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as err:
            raise ActuatorFailedError(f"relay {self.url} failed: {err}") from err
        if not 200 <= status < 300:
            raise ActuatorFailedError(f"relay {self.url} answered {status}")

    def close(self) -> None:
        """Nothing held between calls."""
