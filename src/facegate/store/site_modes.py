"""Site mode requests in the database (see :class:`facegate.ports.SiteModeRepository`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.domain.policy import SiteMode
from facegate.domain.site_mode import ModeRequest, ModeSource
from facegate.store.schema import SiteModeRow


class SqlSiteModeRepository:
    """One row per source in ``site_modes``; a change bumps the site data version."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def all(self) -> list[ModeRequest]:
        """Every source's request, running or ended, by source."""
        rows = self._session.scalars(select(SiteModeRow).order_by(SiteModeRow.source))
        return [_request(row) for row in rows]

    def put(self, request: ModeRequest) -> None:
        """Store ``request``, replacing its source's earlier one."""
        row = self._session.get(SiteModeRow, request.source.value)
        if row is None:
            row = SiteModeRow(source=request.source.value)
            self._session.add(row)
        row.mode, row.reason, row.set_by = request.mode.value, request.reason, request.set_by
        row.set_at, row.until = request.set_at, request.until

    def delete(self, source: ModeSource) -> bool:
        """Withdraw ``source``'s request; whether there was one."""
        row = self._session.get(SiteModeRow, source.value)
        if row is None:
            return False
        self._session.delete(row)
        return True


def _request(row: SiteModeRow) -> ModeRequest:
    return ModeRequest(
        ModeSource(row.source),
        SiteMode(row.mode),
        row.reason,
        row.set_by,
        row.set_at,
        row.until,
    )
