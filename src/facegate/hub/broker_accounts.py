"""Per-site broker accounts in a Mosquitto password file (username = the site's id).

The broker's ACL is one static pattern file (see ``docs/city.md``) that lets user ``%u``
write ``facegate/city/%u/{events,health,summary}`` and read ``facegate/city/%u/notices`` and
``facegate/city/%u/acks`` only. Adding or revoking an account rewrites the password file
with ``mosquitto_passwd`` and sends the broker SIGHUP to re-read it. A connection already
open when a site is revoked stays open until it drops; ingest refuses a revoked site's
messages from its next chunk of messages on, so nothing of it is stored either way.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
from pathlib import Path

from facegate.domain.errors import ServiceUnavailableError

MOSQUITTO_PASSWD = "mosquitto_passwd"
"""The Mosquitto tool that edits password files (Debian: package ``mosquitto``)."""


class MosquittoAccounts:
    """Site accounts of a Mosquitto broker.

    Args:
        passwd_file: the broker's ``password_file``.
        pid_file: the broker's pid file (``None``: the caller reloads the broker).
    """

    def __init__(self, passwd_file: Path, pid_file: Path | None) -> None:
        self.passwd_file, self.pid_file = passwd_file, pid_file

    def add(self, site_id: str) -> str:
        """Create (or reset) ``site_id``'s account; returns its new password."""
        password = secrets.token_urlsafe(24)
        if not self.passwd_file.exists():
            self.passwd_file.touch(mode=0o600)
        self._run(["-b", str(self.passwd_file), site_id, password])
        self._reload()
        return password

    def remove(self, site_id: str) -> None:
        """Delete ``site_id``'s account (no error when it has none)."""
        if self.passwd_file.exists():
            self._run(["-D", str(self.passwd_file), site_id], check=False)
            self._reload()

    def _run(self, args: list[str], check: bool = True) -> None:
        try:
            subprocess.run([MOSQUITTO_PASSWD, *args], check=check, capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as err:
            raise ServiceUnavailableError(f"cannot edit broker accounts ({err})") from err

    def _reload(self) -> None:
        if self.pid_file is None:
            return
        try:
            os.kill(int(self.pid_file.read_text().strip()), signal.SIGHUP)
        except (OSError, ValueError) as err:
            raise ServiceUnavailableError(f"cannot reload the broker ({err})") from err
