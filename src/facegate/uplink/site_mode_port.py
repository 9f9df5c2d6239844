"""Where accepted city notices go on the site.

- Emergency modes go to the site-mode service (:func:`facegate.services.site_mode.set_mode`)
  as the ``hub`` source, with the notice's end time: the service ranks the sources (fire,
  then lockdown, then free passage, then normal), audits the change and bumps the data
  version the gates follow; a ``normal`` notice withdraws the hub's request only, so an
  operator's or a fire panel's request stands.
- Announcements are kept in ``<data-dir>/uplink/announcement.json`` (text, end time,
  notice ``seq``) for the site's consoles and kiosks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from facegate.domain.errors import BadInputError
from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import ModeSource
from facegate.files import write_atomically
from facegate.services import site_mode
from facegate.services.context import ServiceContext
from facegate.uplink.state import UplinkFiles


@dataclass(frozen=True, slots=True)
class Announcement:
    """A city announcement in force: its text and when it stops showing (UTC)."""

    text: str
    until: datetime


class Announcements:
    """The current city announcement of a site, in a file (atomic writes, mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def of_site(cls, data_dir: Path) -> Announcements:
        """The announcements of the site whose data folder is ``data_dir``."""
        return cls(UplinkFiles(data_dir / "uplink").announcement_path)

    def put(self, text: str, until: datetime, notice_seq: int) -> None:
        """Show ``text`` until ``until``."""
        document = {"text": text, "until": until.isoformat(), "seq": notice_seq}
        write_atomically(self.path, json.dumps(document).encode())

    def current(self, now: datetime) -> Announcement | None:
        """The announcement to show at ``now`` (``None``: none, or it has ended).

        Raises:
            BadInputError: the file is damaged.
        """
        if not self.path.is_file():
            return None
        try:
            document = json.loads(self.path.read_text())
            until = datetime.fromisoformat(str(document["until"]))
        except (ValueError, KeyError, TypeError) as err:
            raise BadInputError(f"{self.path} is damaged ({err})") from err
        return Announcement(str(document["text"]), until) if until > now else None


class ServiceSiteMode:
    """The :class:`~facegate.uplink.notices.SiteModePort` of a real site.

    Args:
        context: the site's service context (actor ``hub``).
        announcements: where announcements are kept.
    """

    def __init__(self, context: ServiceContext, announcements: Announcements) -> None:
        self.context, self.announcements = context, announcements

    def request_city_mode(self, mode: SiteMode, until: datetime, notice_seq: int) -> None:
        """Ask the site-mode service for ``mode`` until ``until`` as the hub."""
        site_mode.set_mode(
            self.context, mode, f"city notice {notice_seq}", until, source=ModeSource.HUB
        )

    def announce(self, text: str, until: datetime, notice_seq: int) -> None:
        """Keep the announcement for the consoles and kiosks."""
        self.announcements.put(text, until, notice_seq)
