"""The hub's data access (SQLAlchemy Core over PostgreSQL, schema ``facegate_hub``).

Routers, the CLI and the ingest workers call this module, never SQL of their own.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import Error as PsycopgError
from sqlalchemy import Connection, Engine, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import SQLAlchemyError

from facegate.city.wire import DailySummary, Health, WireEvent
from facegate.domain.errors import (
    BadInputError,
    DatabaseUnavailableError,
    NotFoundError,
    PolicyRefusedError,
)
from facegate.hub import schema
from facegate.hub.access import HubAccount, HubRole
from facegate.hub.schema import accounts, alarms, daily_summaries, events, site_health, sites

JOIN_TOKEN_TTL = timedelta(days=7)
"""How long a join token stays valid (typical 7 days)."""

IDLE_IN_TRANSACTION_MS = 10_000
"""Longest a hub session may sit idle inside a transaction before PostgreSQL ends it
(milliseconds). The hub's transactions never wait on anything but the database, so only
a session whose client is gone reaches it: one cut between its ``INSERT`` and its
``COMMIT`` kept its unique-index entries, and every retry of those events waited on it
(the bench's database cut that never drained)."""

KEEPALIVE_IDLE_S = 10
"""Seconds of silence before a hub connection's TCP keepalive probes start (both ends)."""

KEEPALIVE_INTERVAL_S = 5
"""Seconds between two keepalive probes."""

KEEPALIVE_COUNT = 3
"""Unanswered probes after which the connection is dropped (~25 s after the silence)."""

TCP_USER_TIMEOUT_MS = 30_000
"""Longest the hub's data may stay unacknowledged by the server's host (milliseconds)."""


ALARM_COALESCE_S = 600.0
"""A raise within this long of the last one of the same site and kind counts on that
alarm's row (seconds). One row per raise let one site whose alarm count went 0, 1, 0,
1... push every other site off the alarm feed's 100 rows."""


DATA_SQLSTATE_CLASSES = ("22", "23")
"""SQLSTATE classes of a refusal of the data itself: data exception (a value out of
range, too long, malformed) and integrity constraint violation (a check, a missing
partition, a unique key). Trying the same data again cannot help; every other error
(connection lost, server gone, out of resources) may pass, and is retried."""


class UnstorableError(BadInputError):
    """The database refused the data itself (:data:`DATA_SQLSTATE_CLASSES`)."""


class JoinRefusedError(PolicyRefusedError):
    """A join token that is unknown, used, expired or of a revoked site."""


@dataclass(frozen=True, slots=True)
class SiteKey:
    """What ingest needs to verify a site's messages."""

    site_id: str
    public_key: str | None
    revoked: bool


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a join token is stored; the token itself is not."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class HubStore:
    """The hub's database.

    Args:
        engine: a PostgreSQL engine (:func:`facegate.store.database.create_db_engine`).
    """

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise BadInputError("the hub runs on PostgreSQL only (give --db-url postgresql://...)")
        self.engine = engine
        self._months: set[datetime] = set()
        if not event.contains(engine, "do_connect", _guard_session):
            event.listen(engine, "do_connect", _guard_session)

    def migrate(self) -> int:
        """Create or update the hub schema; returns its version."""
        try:
            with self.engine.begin() as connection:
                return schema.migrate(connection)
        except SQLAlchemyError as err:
            raise DatabaseUnavailableError(f"hub database: {err}") from err

    def add_site(
        self,
        fields: dict[str, str],
        now: datetime,
        free_passage_opt_in: bool = False,
    ) -> tuple[str, str]:
        """Create a site; ``(site_id, one-time join token)``.

        Args:
            fields: ``name``, ``district``, ``operator``, ``contact``.
            now: the current time (UTC).
            free_passage_opt_in: whether the site accepts free-passage notices.
        """
        site_id = "s" + secrets.token_hex(6)
        token = secrets.token_urlsafe(32)
        row = {
            "id": site_id,
            **{k: fields.get(k, "") for k in ("name", "district", "operator", "contact")},
            "join_token_hash": token_hash(token),
            "join_expires_at": now + JOIN_TOKEN_TTL,
            "free_passage_opt_in": free_passage_opt_in,
            "created_at": now,
        }
        if not row["name"] or not row["district"]:
            raise BadInputError("a site needs a name and a district")
        with self.engine.begin() as connection:
            connection.execute(insert(sites).values(row))
        return site_id, token

    def join(self, token: str, public_key: str, now: datetime) -> str:
        """Spend ``token``: record the site's public key; returns the site's id.

        Raises:
            JoinRefusedError: unknown, used or expired token, or a revoked site.
        """
        with self.engine.begin() as connection:
            row = connection.execute(
                select(sites.c.id, sites.c.join_expires_at, sites.c.revoked_at)
                .where(sites.c.join_token_hash == token_hash(token))
                .with_for_update()
            ).first()
            if row is None or row.revoked_at is not None:
                raise JoinRefusedError("unknown, used or revoked join token")
            if row.join_expires_at is None or row.join_expires_at <= now:
                raise JoinRefusedError("the join token has expired")
            connection.execute(
                update(sites)
                .where(sites.c.id == row.id)
                .values(public_key=public_key, joined_at=now, join_token_hash=None)
            )
            return str(row.id)

    def revoke(self, site_id: str, now: datetime) -> None:
        """Revoke ``site_id``: its messages are refused from now on."""
        with self.engine.begin() as connection:
            done = connection.execute(
                update(sites)
                .where(sites.c.id == site_id)
                .values(revoked_at=now, join_token_hash=None)
            )
        if done.rowcount == 0:
            raise NotFoundError(f"no site {site_id!r}")

    def site(self, site_id: str) -> dict[str, Any]:
        """One site's row with its health (``NotFoundError`` when absent)."""
        found = [s for s in self.sites() if s["id"] == site_id]
        if not found:
            raise NotFoundError(f"no site {site_id!r}")
        return found[0]

    def sites(self, districts: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Sites (only of ``districts`` when given) with their last health, by district, name."""
        query = (
            select(
                sites.c.id,
                sites.c.name,
                sites.c.district,
                sites.c.operator,
                sites.c.contact,
                sites.c.joined_at,
                sites.c.revoked_at,
                sites.c.free_passage_opt_in,
                site_health.c.received_at.label("last_seen"),
                site_health.c.backlog,
                site_health.c.active_alarms,
                site_health.c.gates_online,
                site_health.c.gates_total,
                site_health.c.mode,
            )
            .outerjoin(site_health, site_health.c.site_id == sites.c.id)
            .order_by(sites.c.district, sites.c.name)
        )
        if districts is not None:
            query = query.where(sites.c.district.in_(list(districts)))
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def site_keys(self, site_ids: Iterable[str]) -> dict[str, SiteKey]:
        """The keys and revocation of ``site_ids`` (those that exist), by site id."""
        query = select(sites.c.id, sites.c.public_key, sites.c.revoked_at).where(
            sites.c.id.in_(list(site_ids))
        )
        with translated(), self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {r.id: SiteKey(r.id, r.public_key, r.revoked_at is not None) for r in rows}

    def store_events(self, batch: Sequence[tuple[str, WireEvent]], now: datetime) -> int:
        """Insert events in one transaction; duplicates are skipped. Returns rows inserted.

        The rows go by ``COPY`` into a per-connection temporary staging table, then one
        ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` moves them into ``events``: the
        unique index drops a redelivered event. A multi-row ``INSERT`` built with
        SQLAlchemy spent most of its time compiling the statement; COPY is an order of
        magnitude faster (``python bench/hub_ingest.py``, figures in docs/city.md).

        Raises:
            UnstorableError: the database refused the data (trying again cannot help).
            DatabaseUnavailableError: the database cannot be reached or failed otherwise.
        """
        if not batch:
            return 0
        months = {schema.month_start(event.occurred_at) for _, event in batch}
        try:
            with self.engine.begin() as connection:
                for month in months - self._months:
                    schema.ensure_month(connection, month)
                inserted = schema.copy_events(
                    connection, (_event_row(site_id, event, now) for site_id, event in batch)
                )
        except (SQLAlchemyError, PsycopgError) as err:
            raise _refusal(err) from err
        self._months.update(months)
        return inserted

    def store_each(
        self, batch: Sequence[tuple[str, WireEvent]], now: datetime
    ) -> tuple[int, list[tuple[int, str]]]:
        """Insert events one by one, each under a savepoint of one transaction.

        For a batch :meth:`store_events` refused as bad data: ``(rows inserted,
        [(index in batch, why)] of the events the database refuses)``. One round trip
        or three per event instead of :meth:`store_events`' few per batch.

        Raises:
            UnstorableError: the database refused the batch's months (their partitions).
            DatabaseUnavailableError: any error but a refusal of an event's data.
        """
        months = {schema.month_start(event.occurred_at) for _, event in batch}
        inserted, refused = 0, []
        try:
            with self.engine.begin() as connection:
                for month in months - self._months:
                    schema.ensure_month(connection, month)
                for index, (site_id, event) in enumerate(batch):
                    try:
                        with connection.begin_nested():
                            row = _event_row(site_id, event, now)
                            inserted += schema.insert_event(connection, row)
                    except SQLAlchemyError as err:
                        why = _refusal(err)
                        if not isinstance(why, UnstorableError):
                            raise
                        refused.append((index, str(why)))
        except (SQLAlchemyError, PsycopgError) as err:
            raise _refusal(err) from err
        self._months.update(months)
        return inserted, refused

    def store_health(self, health: Health, now: datetime) -> None:
        """Keep ``health`` as the site's latest; raise a ``site_alarms`` alarm on a rise."""
        values = health.model_dump(mode="python", exclude={"site_id"})
        values["mode"] = str(health.mode)
        values.update(received_at=now)
        with translated(), self.engine.begin() as connection:
            before = connection.execute(
                select(site_health.c.active_alarms).where(site_health.c.site_id == health.site_id)
            ).scalar()
            statement = pg_insert(site_health).values(site_id=health.site_id, **values)
            connection.execute(
                statement.on_conflict_do_update(index_elements=["site_id"], set_=values)
            )
            if health.active_alarms > (before or 0):
                detail = f"{health.active_alarms} active alarm(s) at the site"
                _raise(connection, health.site_id, "site_alarms", detail, now)

    def add_alarm(self, site_id: str, kind: str, detail: str, now: datetime) -> None:
        """Raise an alarm of ``kind`` for ``site_id`` (``detail`` cut at 200 characters).

        Within :data:`ALARM_COALESCE_S` of the last raise of the same site and kind, it
        counts on that alarm's row instead of adding one.
        """
        with translated(), self.engine.begin() as connection:
            _raise(connection, site_id, kind, detail, now)

    def store_summary(self, summary: DailySummary, now: datetime) -> None:
        """Keep a site's counts of one day (a newer summary of that day replaces it)."""
        counts = summary.model_dump(mode="json", include={"counts", "denials_by_reason"})
        counts["disclosure_bases"] = summary.disclosure_bases
        values = {"counts": counts, "received_at": now}
        statement = pg_insert(daily_summaries).values(
            site_id=summary.site_id, day=summary.day, **values
        )
        with translated(), self.engine.begin() as connection:
            connection.execute(
                statement.on_conflict_do_update(index_elements=["site_id", "day"], set_=values)
            )

    def add_account(
        self, username: str, role: HubRole, districts: Sequence[str], now: datetime
    ) -> str:
        """Create a hub account; returns its API token (shown once, stored hashed)."""
        if role is HubRole.DISTRICT_VIEWER and not districts:
            raise BadInputError("a district viewer needs at least one --district")
        token = secrets.token_urlsafe(32)
        row = {
            "username": username,
            "role": str(role),
            "districts": list(districts),
            "token_hash": token_hash(token),
            "created_at": now,
        }
        with self.engine.begin() as connection:
            connection.execute(insert(accounts).values(row))
        return token

    def account_for(self, token: str) -> HubAccount | None:
        """The account whose API token is ``token`` (``None``: no such token)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(accounts).where(accounts.c.token_hash == token_hash(token))
            ).first()
        if row is None:
            return None
        return HubAccount(row.username, HubRole(row.role), tuple(row.districts))

    def event_count(self) -> int:
        """How many events the hub holds."""
        with self.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(events)).scalar_one())

    def drop_expired(self, now: datetime, retention_days: int) -> list[str]:
        """Drop the event partitions wholly older than ``retention_days``; their names."""
        with self.engine.begin() as connection:
            dropped = schema.drop_older_than(connection, now - timedelta(days=retention_days))
        self._months.clear()
        return dropped


def _guard_session(_dialect: object, _rec: object, _args: object, params: dict[str, Any]) -> None:
    """Bound every hub connection against a peer that vanished (``do_connect`` hook).

    Client side (libpq): TCP keepalives and a TCP user timeout, so a call waiting on a
    server that is gone fails instead of waiting forever. Server side (the session's
    settings): its own keepalives and :data:`IDLE_IN_TRANSACTION_MS`, so a session whose
    client is gone ends and releases its locks instead of blocking the retries.
    """
    params.update(
        keepalives=1,
        keepalives_idle=KEEPALIVE_IDLE_S,
        keepalives_interval=KEEPALIVE_INTERVAL_S,
        keepalives_count=KEEPALIVE_COUNT,
        tcp_user_timeout=TCP_USER_TIMEOUT_MS,
    )
    settings = {
        "idle_in_transaction_session_timeout": IDLE_IN_TRANSACTION_MS,
        "tcp_keepalives_idle": KEEPALIVE_IDLE_S,
        "tcp_keepalives_interval": KEEPALIVE_INTERVAL_S,
        "tcp_keepalives_count": KEEPALIVE_COUNT,
    }
    given = str(params.get("options", ""))
    params["options"] = " ".join([given, *(f"-c {k}={v}" for k, v in settings.items())]).strip()


def _raise(connection: Connection, site_id: str, kind: str, detail: str, now: datetime) -> None:
    """Raise an alarm in ``connection``'s transaction (see :meth:`HubStore.add_alarm`)."""
    # one raiser at a time per site and kind (two ingest workers may take the same site)
    connection.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"alarm:{site_id}:{kind}"))))
    open_id = connection.execute(
        select(alarms.c.id)
        .where(
            alarms.c.site_id == site_id,
            alarms.c.kind == kind,
            alarms.c.last_raised_at >= now - timedelta(seconds=ALARM_COALESCE_S),
        )
        .order_by(alarms.c.last_raised_at.desc())
        .limit(1)
    ).scalar()
    values = {"detail": detail[:200], "last_raised_at": now}
    if open_id is None:
        row = {"site_id": site_id, "kind": kind, "raised_at": now, **values}
        connection.execute(insert(alarms).values(row))
    else:
        raised = update(alarms).where(alarms.c.id == open_id)
        connection.execute(raised.values(count=alarms.c.count + 1, **values))


def _event_row(site_id: str, event: WireEvent, now: datetime) -> tuple[object, ...]:
    """One event as a row of :data:`schema.EVENT_COLUMNS` (in that order)."""
    credential = None if event.credential is None else str(event.credential)
    return (
        site_id,
        event.key,
        event.seq,
        event.door_id,
        event.occurred_at,
        event.granted,
        str(event.reason),
        credential,
        now,
    )


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise database errors as :class:`UnstorableError` or :class:`DatabaseUnavailableError`."""
    try:
        yield
    except SQLAlchemyError as err:
        raise _refusal(err) from err


def _refusal(err: Exception) -> BadInputError | DatabaseUnavailableError:
    """The error to raise for a database error: bad data, or a database to wait for."""
    state = getattr(getattr(err, "orig", err), "sqlstate", None) or ""
    if state[:2] in DATA_SQLSTATE_CLASSES:
        return UnstorableError(f"hub database refused the data ({state}): {_first_line(err)}")
    return DatabaseUnavailableError(f"hub database: {_first_line(err)}")


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__
