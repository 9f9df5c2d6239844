"""Reads of the hub's events and alarms, scoped by district, each event read audited."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, insert, select, true, tuple_

from facegate.domain.errors import BadInputError
from facegate.hub.access import HubAccount
from facegate.hub.schema import alarms, event_reads, events, sites
from facegate.hub.store import HubStore

MAX_PAGE = 200
"""Most rows in one page of events or alarms."""


@dataclass(frozen=True, slots=True)
class EventFilter:
    """An event search; ``None`` fields do not filter.

    ``after`` is the keyset cursor: ``(occurred_at ISO, site_id, event_key)`` of the last
    row of the previous page (pages are newest first).
    """

    district: str | None = None
    site_id: str | None = None
    door_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    granted: bool | None = None
    reason: str | None = None
    after: tuple[str, str, str] | None = None
    page_size: int = 50

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE:
            raise BadInputError(f"page_size is between 1 and {MAX_PAGE}")
        if self.door_id is not None and self.site_id is None:
            raise BadInputError("a door is searched within a site (door ids are a site's own)")
        texts = (self.district, self.site_id, self.door_id, self.reason, *(self.after or ()))
        if any("\x00" in t for t in texts if t is not None):  # PostgreSQL text holds no NUL
            raise BadInputError("a search value holds a NUL character")
        if self.after is not None:
            _after_moment(self.after)


def _after_moment(after: tuple[str, str, str]) -> datetime:
    """The moment of a keyset cursor.

    Raises:
        BadInputError: not an ISO date and time.
    """
    try:
        return datetime.fromisoformat(after[0])
    except ValueError as err:
        raise BadInputError("after is occurred_at|site_id|event_key of a page's last row") from err


def _scoped_sites(account: HubAccount, district: str | None) -> Select[Any]:
    query = select(sites.c.id)
    scope = account.scope()
    if scope is not None:
        query = query.where(sites.c.district.in_(scope))
    if district is not None:
        query = query.where(sites.c.district == district)
    return query


def search_events(
    store: HubStore, account: HubAccount, query: EventFilter, now: datetime
) -> list[dict[str, Any]]:
    """One page of events the account may see, newest first; the read is audited.

    Two plans, chosen by the filter (each served by an index, so a page stays fast on
    10 million rows: bench/hub_search.py):

    - a set of sites (a district, or a district viewer's scope) without one site named:
      for each of those sites, its newest matching rows by the index ``(site_id,
      occurred_at)`` or ``(site_id, reason, occurred_at)`` (a ``LATERAL`` join), then the
      newest of them. Scanning the city's time index and dropping the other districts'
      rows took 11 s for a rare reason in one district.
    - otherwise (the whole city, or one site): one scan of the rows newest first.
    """
    order = (events.c.occurred_at.desc(), events.c.site_id.desc(), events.c.event_key.desc())
    conditions = _event_conditions(query)
    if query.site_id is None and (query.district is not None or account.scope() is not None):
        scoped = _scoped_sites(account, query.district).subquery("scoped")
        per_site = (
            select(*_EVENT_COLUMNS)
            .where(events.c.site_id == scoped.c.id, *conditions)
            .order_by(*order)
            .limit(query.page_size)
            .lateral("per_site")
        )
        statement = (
            select(*(per_site.c[c.name] for c in _EVENT_COLUMNS))
            .select_from(scoped.join(per_site, true()))
            .order_by(
                per_site.c.occurred_at.desc(),
                per_site.c.site_id.desc(),
                per_site.c.event_key.desc(),
            )
            .limit(query.page_size)
        )
    else:
        statement = (
            select(*_EVENT_COLUMNS)
            .where(events.c.site_id.in_(_scoped_sites(account, query.district)), *conditions)
            .order_by(*order)
            .limit(query.page_size)
        )
    described = {
        k: v if not isinstance(v, datetime) else v.isoformat()
        for k, v in asdict(query).items()
        if v is not None
    }
    with store.engine.begin() as connection:
        rows = [dict(r._mapping) for r in connection.execute(statement)]
        connection.execute(
            insert(event_reads).values(
                at=now, actor=account.username, query=json.dumps(described), rows=len(rows)
            )
        )
    return rows


_EVENT_COLUMNS = (
    events.c.site_id,
    events.c.event_key,
    events.c.seq,
    events.c.door_id,
    events.c.occurred_at,
    events.c.granted,
    events.c.reason,
    events.c.credential,
)
"""The columns a page of events shows (never more: the hub has no person to show)."""


def _event_conditions(query: EventFilter) -> list[ColumnElement[bool]]:
    """The filter's conditions on ``events`` besides the site scope."""
    conditions: list[ColumnElement[bool]] = []
    for column, value in (
        (events.c.site_id, query.site_id),
        (events.c.door_id, query.door_id),
        (events.c.granted, query.granted),
        (events.c.reason, query.reason),
    ):
        if value is not None:
            conditions.append(column == value)
    if query.since is not None:
        conditions.append(events.c.occurred_at >= query.since)
    if query.until is not None:
        conditions.append(events.c.occurred_at < query.until)
    if query.after is not None:
        moment = _after_moment(query.after)
        key = tuple_(events.c.occurred_at, events.c.site_id, events.c.event_key)
        conditions.append(events.c.occurred_at <= moment)  # lets the index bound the scan
        conditions.append(key < tuple_(moment, query.after[1], query.after[2]))
    return conditions


def recent_alarms(store: HubStore, account: HubAccount, limit: int = 100) -> list[dict[str, Any]]:
    """The alarms of the sites the account may see, the latest raised first.

    A row covers ``count`` raises of one site and kind from ``raised_at`` to
    ``last_raised_at`` (:data:`~facegate.hub.store.ALARM_COALESCE_S`).
    """
    statement = (
        select(alarms)
        .where(alarms.c.site_id.in_(_scoped_sites(account, None)))
        .order_by(alarms.c.last_raised_at.desc(), alarms.c.id.desc())
        .limit(min(limit, MAX_PAGE))
    )
    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(statement)]


def event_read_log(store: HubStore, limit: int = 100) -> list[dict[str, Any]]:
    """The newest audited event reads."""
    statement = select(event_reads).order_by(event_reads.c.id.desc()).limit(min(limit, MAX_PAGE))
    with store.engine.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(statement)]
