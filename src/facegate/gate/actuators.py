"""Door and lift actuators without a broker: the simulated door and the HTTP relay."""

from __future__ import annotations

import urllib.error
import urllib.request

from facegate.domain.errors import ActuatorFailedError, BadInputError
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

    The URL may hold ``{action}``, ``{duration_s}``, ``{request_id}`` and, for a lift,
    ``{floors}`` (the floors of this ride, comma-separated, e.g. ``3,7``) placeholders,
    e.g. ``http://10.0.0.7/relay/0?turn=on&timer={duration_s}`` for a Shelly, or
    ``http://lift-gw/ride?floors={floors}&for={duration_s}&id={request_id}`` for a lift
    controller's gateway. Any 2xx answer within ``timeout_s`` is the acknowledgement.

    Args:
        url: the URL template.
        timeout_s: how long to wait for the answer (seconds).
    """

    def __init__(self, url: str, timeout_s: float, *, lift: bool = False) -> None:
        """Raises :class:`BadInputError` for a lift whose URL has no ``{floors}``."""
        if lift and "{floors}" not in url:
            raise BadInputError(
                "a lift's HTTP URL must carry the ride's floors: add {floors} to it "
                "(e.g. http://lift-gw/ride?floors={floors}), or it would enable every floor"
            )
        self.url = url
        self.timeout_s = timeout_s

    def send(self, command: ActuatorCommand) -> None:
        """Call the relay; any failure is :class:`ActuatorFailedError`."""
        url = self.url.format(
            action=command.action,
            duration_s=f"{command.duration_s:g}",
            request_id=command.request_id,
            floors=",".join(str(floor) for floor in command.floors),
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
