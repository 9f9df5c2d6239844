"""A stand-in :class:`~facegate.uplink.notices.SiteModePort`: the hub's request in a file.

``<data-dir>/uplink/city_mode.json`` holds the last accepted emergency mode (with its
end time and notice ``seq``) and the current announcement. The site-mode service reads
the request and ranks it (fire, then lockdown, then normal); until that service takes
over, :func:`effective_city_mode` gives the hub's part of it: the requested mode while
its end time has not passed, else normal.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from facegate.domain.errors import BadInputError
from facegate.domain.policy import SiteMode
from facegate.files import write_atomically


class CityModeFile:
    """Keeps the hub's requests in ``path`` (atomic writes, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, object]:
        if not self.path.is_file():
            return {}
        try:
            document = json.loads(self.path.read_text())
        except ValueError as err:
            raise BadInputError(f"{self.path} is damaged ({err})") from err
        return document if isinstance(document, dict) else {}

    def _write(self, document: dict[str, object]) -> None:
        write_atomically(self.path, json.dumps(document, indent=2).encode())

    def request_city_mode(self, mode: SiteMode, until: datetime, notice_seq: int) -> None:
        """Record the hub's request for ``mode`` until ``until``."""
        document = self._read()
        document["mode"] = {"mode": str(mode), "until": until.isoformat(), "seq": notice_seq}
        self._write(document)

    def announce(self, text: str, until: datetime, notice_seq: int) -> None:
        """Record the announcement to show until ``until``."""
        document = self._read()
        document["announcement"] = {"text": text, "until": until.isoformat(), "seq": notice_seq}
        self._write(document)

    def effective_city_mode(self, now: datetime) -> SiteMode:
        """The hub's requested mode at ``now`` (normal once its end time has passed)."""
        entry = self._read().get("mode")
        if not isinstance(entry, dict):
            return SiteMode.NORMAL
        if datetime.fromisoformat(str(entry["until"])) <= now:
            return SiteMode.NORMAL
        return SiteMode(str(entry["mode"]))
