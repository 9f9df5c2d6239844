"""A site's daily summary: the counts the city's transparency report needs, nothing else.

Counts only (no id, no name): residents living there, of them enrolled by face, of
them with a card or PIN and no face template, consent withdrawals of the day, entries
and denials of the day (denials by reason), alert-list entries in force at the end of
the day, disclosures to authorities approved that day (by legal basis, the basis text
cut at ``MAX_BASIS_CHARS`` characters). The uplink sends today's (so far) and
yesterday's summary with its health; the hub keeps the newest of each day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Connection, Engine, and_, exists, func, select

from facegate.city.wire import MAX_BASIS_CHARS, DailySummary
from facegate.domain.reasons import Reason
from facegate.store.schema import (
    AlertRow,
    CardRow,
    ConsentRow,
    DisclosureRow,
    EventRow,
    PersonRow,
    PinRow,
    TemplateRow,
)


def daily_summary(engine: Engine, site_id: str, day: date) -> DailySummary:
    """The summary of ``day`` (UTC) from the site's database."""
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    with engine.connect() as connection:
        counts = _people(connection, end)
        counts["consent_withdrawals"] = _count(
            connection,
            select(func.count()).where(
                ConsentRow.withdrawn_at >= start, ConsentRow.withdrawn_at < end
            ),
        )
        in_day = and_(EventRow.occurred_at >= start, EventRow.occurred_at < end)
        by_outcome = dict(
            connection.execute(
                select(EventRow.granted, func.count()).where(in_day).group_by(EventRow.granted)
            ).all()
        )
        counts["entries"] = int(by_outcome.get(True, 0))
        counts["denials"] = int(by_outcome.get(False, 0))
        reasons = connection.execute(
            select(EventRow.reason, func.count())
            .where(in_day, EventRow.granted.is_(False))
            .group_by(EventRow.reason)
        ).all()
        counts["alert_entries_in_force"] = _count(
            connection,
            select(func.count()).where(AlertRow.added_at < end, AlertRow.expires_at >= end),
        )
        bases = connection.execute(
            select(func.substr(DisclosureRow.legal_basis, 1, MAX_BASIS_CHARS), func.count())
            .where(DisclosureRow.approved_at >= start, DisclosureRow.approved_at < end)
            .group_by(func.substr(DisclosureRow.legal_basis, 1, MAX_BASIS_CHARS))
        ).all()
    counts["disclosures"] = sum(int(n) for _, n in bases)
    return DailySummary(
        site_id=site_id,
        day=day,
        counts=counts,
        denials_by_reason={Reason(r): int(n) for r, n in reasons},
        disclosure_bases={str(b): int(n) for b, n in bases},
    )


def summaries_of(engine: Engine, site_id: str) -> Callable[[], list[DailySummary]]:
    """Today's (so far) and yesterday's summaries, built afresh at each call."""

    def build() -> list[DailySummary]:
        today = datetime.now(UTC).date()
        return [daily_summary(engine, site_id, d) for d in (today - timedelta(days=1), today)]

    return build


def _people(connection: Connection, end: datetime) -> dict[str, int]:
    living = and_(
        PersonRow.role == "resident",
        PersonRow.created_at < end,
        (PersonRow.moved_out_at.is_(None)) | (PersonRow.moved_out_at >= end),
    )
    face = exists().where(TemplateRow.person_id == PersonRow.id)
    card = exists().where(CardRow.person_id == PersonRow.id)
    pin = exists().where(PinRow.person_id == PersonRow.id)
    return {
        "residents": _count(connection, select(func.count()).where(living)),
        "face_enrolled": _count(connection, select(func.count()).where(living, face)),
        "card_pin_only": _count(connection, select(func.count()).where(living, ~face, card | pin)),
    }


def _count(connection: Connection, query: object) -> int:
    return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]
