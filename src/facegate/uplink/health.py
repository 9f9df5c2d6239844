"""The site's health message: gates, backlog, mode (read from the site's own data).

Outside ``facegate serve`` the uplink process cannot see which gates are online (that
board lives in the server's memory): it reports every registered gate in
``gates_total`` and ``gates_online`` as the gates heard from in the site's receipts
during the last :data:`ONLINE_WINDOW_S`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from facegate.bootstrap import build_store
from facegate.city.wire import Health
from facegate.config import Settings
from facegate.services.site_mode import mode_in_force
from facegate.store.schema import GateRow, ReceiptRow

ONLINE_WINDOW_S = 120.0
"""A gate that delivered an event in this many seconds counts as online."""


def site_health(settings: Settings, site_id: str) -> Callable[[int], Health]:
    """A builder of ``site_id``'s health message given its backlog."""
    store = build_store(settings)
    engine = store.engine
    gates, receipts = GateRow.__table__, ReceiptRow.__table__

    def build(backlog: int) -> Health:
        now = datetime.now(UTC)
        since = now - timedelta(seconds=ONLINE_WINDOW_S)
        with engine.connect() as connection:
            total = connection.execute(select(func.count()).select_from(gates)).scalar_one()
            online = connection.execute(
                select(func.count(func.distinct(receipts.c.gate_id))).where(
                    receipts.c.received_at >= since
                )
            ).scalar_one()
        with store.unit_of_work() as uow:
            mode = mode_in_force(uow, now)
        return Health(
            site_id=site_id,
            sent_at=now,
            gates_online=int(online),
            gates_total=int(total),
            backlog=backlog,
            active_alarms=0,
            mode=mode,
        )

    return build
