"""City notices on the site: verified with the pinned hub key, applied, audited.

A notice is refused (and the refusal audited as ``city_notice.refuse`` with its reason)
when it is not a signed envelope, its signature is not the pinned hub key's over the
exact body (unsigned or altered), it names another site, its ``ends_at`` has passed
(expired), its ``seq`` is not above the last accepted one (replayed), or it asks free
passage of a site that did not opt in. An accepted notice is applied through the
:class:`SiteModePort` and audited as ``city_notice.apply``. The site can always override
locally: the site-mode service ranks fire, then lockdown, then normal, whoever asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from facegate.city.wire import Notice, SignatureRefusedError, unseal
from facegate.domain.errors import BadInputError
from facegate.domain.policy import SiteMode
from facegate.services.context import ServiceContext, audit
from facegate.uplink.state import UplinkFiles

log = logging.getLogger(__name__)

CLOCK_SKEW_S = 300.0
"""A notice issued further than this in the future is logged: the site's clock is behind
the hub's (seconds). It is still applied: the signature and ``seq`` are what make a notice
genuine and new, and a site whose clock runs slow must not refuse a lockdown."""


class SiteModePort(Protocol):
    """Where accepted notices go (the site-mode service, or a stand-in)."""

    def request_city_mode(self, mode: SiteMode, until: datetime, notice_seq: int) -> None:
        """The hub asks ``mode`` until ``until`` (``normal`` ends an earlier request)."""

    def announce(self, text: str, until: datetime, notice_seq: int) -> None:
        """Show ``text`` on the site's consoles and kiosks until ``until``."""


NoticeAudit = Callable[[str, dict[str, str | int | bool | None]], None]
"""Writes one site audit record: ``(action, details)``."""


def site_audit(context: ServiceContext) -> NoticeAudit:
    """A :data:`NoticeAudit` that appends to the site's hash-chained audit log."""

    def write(action: str, details: dict[str, str | int | bool | None]) -> None:
        with context.store.unit_of_work() as uow:
            audit(uow, context, action, None, details)
            uow.commit()

    return write


class NoticeRefusedError(BadInputError):
    """A notice the site will not apply.

    ``why`` is one of ``malformed``, ``signature``, ``other_site``, ``expired``,
    ``replayed``, ``not_opted_in``.
    """

    def __init__(self, why: str, message: str) -> None:
        super().__init__(message)
        self.why = why


class NoticeReceiver:
    """Checks, applies and audits the notices addressed to this site.

    Args:
        files: the uplink's files (the last accepted ``seq`` lives there).
        site_id: this site's id on the hub.
        hub_key: the pinned hub public key.
        port: where accepted notices go.
        audit: writes the site's audit records.
        now: the clock (UTC).
        free_passage_opt_in: whether this site accepts free passage from the hub.
    """

    def __init__(
        self,
        files: UplinkFiles,
        site_id: str,
        hub_key: Ed25519PublicKey,
        port: SiteModePort,
        audit: NoticeAudit,
        now: Callable[[], datetime],
        free_passage_opt_in: bool = False,
    ) -> None:
        self.files, self.site_id, self.hub_key = files, site_id, hub_key
        self.port, self.audit, self.now = port, audit, now
        self.free_passage_opt_in = free_passage_opt_in

    def receive(self, raw: bytes) -> Notice | None:
        """Apply ``raw`` if it passes every check; the notice, or ``None`` when refused."""
        try:
            notice = self.check(raw)
        except NoticeRefusedError as err:
            log.warning("city notice refused (%s): %s", err.why, err)
            self.audit("city_notice.refuse", {"why": err.why, "message": str(err)[:200]})
            return None
        self.files.save_notice_seq(notice.seq)
        if notice.kind == "announcement":
            self.port.announce(notice.text, notice.ends_at, notice.seq)
        else:
            self.port.request_city_mode(SiteMode(notice.kind), notice.ends_at, notice.seq)
        self.audit(
            "city_notice.apply",
            {"seq": notice.seq, "kind": notice.kind, "ends_at": notice.ends_at.isoformat()},
        )
        return notice

    def check(self, raw: bytes) -> Notice:
        """The notice in ``raw`` if it may be applied.

        Raises:
            NoticeRefusedError: with ``why`` saying which check failed.
        """
        try:
            notice = unseal(raw, self.hub_key, Notice)
        except SignatureRefusedError as err:
            raise NoticeRefusedError("signature", str(err)) from err
        except BadInputError as err:
            raise NoticeRefusedError("malformed", str(err)) from err
        now = self.now()
        if notice.site_id != self.site_id:
            raise NoticeRefusedError("other_site", f"notice {notice.seq} is for another site")
        if notice.ends_at <= now:
            raise NoticeRefusedError("expired", f"notice {notice.seq} ended at {notice.ends_at}")
        ahead_s = (notice.issued_at - now).total_seconds()
        if ahead_s > CLOCK_SKEW_S:
            log.warning(
                "city notice %d issued %.0f s ahead of this site's clock", notice.seq, ahead_s
            )
        if notice.seq <= self.files.notice_seq():
            raise NoticeRefusedError("replayed", f"notice {notice.seq} was seen already")
        if notice.kind == "free_passage" and not self.free_passage_opt_in:
            raise NoticeRefusedError("not_opted_in", "this site does not take free passage")
        return notice
