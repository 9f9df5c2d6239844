"""What a joined site keeps about its hub, under ``<data-dir>/uplink/``.

- ``uplink.json``: the hub's URL, the site's id there, the broker, the hub's public key
  (pinned at join: notices signed by any other key are refused).
- ``site.ed25519.pem``: the site's private key (mode 0600), made at join.
- ``cursor``: the ``seq`` of the last event the broker acknowledged (durable: written
  atomically after each acknowledged batch).
- ``notice_seq``: the ``seq`` of the last notice accepted (a lower or equal one is a replay).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from facegate.domain.errors import BadInputError, SiteNotInitializedError
from facegate.files import write_atomically


@dataclass(frozen=True, slots=True)
class UplinkConfig:
    """The site's hub as agreed at join.

    Attributes:
        hub_url: the hub's HTTP(S) base URL.
        site_id: this site's id on the hub (its topics' segment and broker username).
        broker_host: the MQTT broker's host.
        broker_port: its port.
        hub_public_key: the pinned hub key (base64 of 32 bytes).
        broker_password: the site's broker password, when the broker has accounts.
        accept_free_passage: whether the site takes free-passage notices (it opens doors:
            a master key, off unless chosen at join).
    """

    hub_url: str
    site_id: str
    broker_host: str
    broker_port: int
    hub_public_key: str
    broker_password: str | None = None
    accept_free_passage: bool = False


class UplinkFiles:
    """The files of one site's uplink.

    Args:
        root: ``<data-dir>/uplink``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config_path = root / "uplink.json"
        self.key_path = root / "site.ed25519.pem"
        self.cursor_path = root / "cursor"
        self.notice_path = root / "notice_seq"
        self.announcement_path = root / "announcement.json"

    def joined(self) -> bool:
        """Whether this site has joined a hub."""
        return self.config_path.is_file()

    def save_config(self, config: UplinkConfig) -> None:
        """Write ``uplink.json`` (mode 0600: it may hold the broker password)."""
        write_atomically(self.config_path, json.dumps(asdict(config), indent=2).encode())

    def config(self) -> UplinkConfig:
        """The saved config.

        Raises:
            SiteNotInitializedError: the site has not joined a hub.
            BadInputError: the file is damaged.
        """
        if not self.joined():
            raise SiteNotInitializedError(
                f"no {self.config_path}: run 'facegate uplink join URL TOKEN' first"
            )
        try:
            return UplinkConfig(**json.loads(self.config_path.read_text()))
        except (ValueError, TypeError) as err:
            raise BadInputError(f"{self.config_path} is damaged ({err})") from err

    def cursor(self) -> int:
        """The last acknowledged ``seq`` (0 before the first batch)."""
        return _read_int(self.cursor_path)

    def save_cursor(self, seq: int) -> None:
        """Record ``seq`` as acknowledged by the broker."""
        write_atomically(self.cursor_path, f"{seq}\n".encode())

    def notice_seq(self) -> int:
        """The ``seq`` of the last accepted notice (0 before the first)."""
        return _read_int(self.notice_path)

    def save_notice_seq(self, seq: int) -> None:
        """Record ``seq`` as the last accepted notice."""
        write_atomically(self.notice_path, f"{seq}\n".encode())


def _read_int(path: Path) -> int:
    if not path.is_file():
        return 0
    try:
        return int(path.read_text().strip())
    except ValueError as err:
        raise BadInputError(f"{path} is damaged ({err})") from err
