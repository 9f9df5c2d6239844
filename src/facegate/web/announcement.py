"""The city hub's announcement on the site's pages: the dashboard banner and the kiosk.

An accepted announcement notice is kept by the uplink in
``<data-dir>/uplink/announcement.json`` (:class:`facegate.uplink.site_mode_port.
Announcements`); the pages show it until its end time. It is information, not a
decision: a damaged file is logged and nothing is shown.
"""

from __future__ import annotations

import logging

from fastapi import Request

from facegate.domain.errors import FacegateError
from facegate.http.deps import server_deps
from facegate.uplink.site_mode_port import Announcement, Announcements

log = logging.getLogger(__name__)

KIOSK_POLL_S = 60
"""How often an open kiosk page asks for the announcement again (seconds)."""


def current_announcement(request: Request) -> Announcement | None:
    """The announcement in force at the site now (``None``: none, ended or unreadable)."""
    deps = server_deps(request)
    try:
        return Announcements.of_site(deps.settings.data_dir).current(deps.clock.now())
    except FacegateError as err:
        log.warning("the city announcement is not shown (%s)", err)
        return None
