"""The hub's tables in the PostgreSQL schema ``facegate_hub``, and their versioned DDL.

``events`` is partitioned by month of ``occurred_at`` (``events_yYYYYmMM``); its unique
index ``(site_id, event_key, occurred_at)`` includes the partition key, as PostgreSQL
requires, and makes a redelivered event a no-op. Partitions are made on demand by
:func:`ensure_month` and dropped whole by retention.

The DDL is versioned in ``facegate_hub.schema_version``: :data:`STEPS` run in order,
each once, under an advisory lock (two hub processes starting at once do not race).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "facegate_hub"
"""The PostgreSQL schema that holds every hub table."""

_LOCK_KEY = 0x66676875  # "fghu": the advisory lock of schema changes
_UTC = DateTime(timezone=True)

metadata = MetaData(schema=SCHEMA)

sites = Table(
    "sites",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, comment="the complex's name, not a person's"),
    Column("district", String(100), nullable=False, index=True),
    Column("operator", String(200), nullable=False, comment="the property company"),
    Column("contact", String(200), nullable=False, comment="the operator's desk, not a person"),
    Column("public_key", String(64)),
    Column("join_token_hash", String(64), unique=True),
    Column("join_expires_at", _UTC),
    Column("joined_at", _UTC),
    Column("revoked_at", _UTC),
    Column("free_passage_opt_in", Boolean, nullable=False, server_default="false"),
    Column("created_at", _UTC, nullable=False),
)

site_health = Table(
    "site_health",
    metadata,
    Column("site_id", String(64), primary_key=True),
    Column("received_at", _UTC, nullable=False),
    Column("sent_at", _UTC, nullable=False),
    Column("gates_online", Integer, nullable=False),
    Column("gates_total", Integer, nullable=False),
    Column("last_sync_at", _UTC),
    Column("backlog", BigInteger, nullable=False),
    Column("door_states", JSONB, nullable=False),
    Column("active_alarms", Integer, nullable=False),
    Column("mode", String(16), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("site_id", String(64), nullable=False),
    Column("event_key", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("door_id", String(64), nullable=False),
    Column("occurred_at", _UTC, nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("reason", String(32), nullable=False),
    Column("credential", String(8)),
    Column("received_at", _UTC, nullable=False),
    Index("uq_hub_events_key", "site_id", "event_key", "occurred_at", unique=True),
    Index("ix_hub_events_site_time", "site_id", "occurred_at"),
    Index("ix_hub_events_time", "occurred_at"),
    Index("ix_hub_events_reason_time", "reason", "occurred_at"),
    Index("ix_hub_events_site_reason_time", "site_id", "reason", "occurred_at"),
    postgresql_partition_by="RANGE (occurred_at)",
)

alarms = Table(
    "alarms",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("site_id", String(64), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("raised_at", _UTC, nullable=False, index=True),
    Column("detail", String(200), nullable=False, comment="the latest raise's"),
    Column("count", Integer, nullable=False, server_default="1", comment="raises on this row"),
    Column("last_raised_at", _UTC, nullable=False, index=True),
)

notices = Table(
    "notices",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("site_id", String(64), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("issued_at", _UTC, nullable=False),
    Column("ends_at", _UTC, nullable=False),
    Column("text", Text, nullable=False),
    Column("issued_by", String(100), nullable=False),
)

daily_summaries = Table(
    "daily_summaries",
    metadata,
    Column("site_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("counts", JSONB, nullable=False),
    Column("received_at", _UTC, nullable=False),
)

event_reads = Table(
    "event_reads",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", _UTC, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("query", Text, nullable=False, comment="the filter as JSON"),
    Column("rows", Integer, nullable=False),
)


accounts = Table(
    "accounts",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("districts", JSONB, nullable=False, comment="districts a district viewer sees"),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", _UTC, nullable=False),
)


EVENT_COLUMNS = (
    "site_id",
    "event_key",
    "seq",
    "door_id",
    "occurred_at",
    "granted",
    "reason",
    "credential",
    "received_at",
)
"""The columns of ``events`` in the order :func:`copy_events` takes its rows."""

COPY_TIMEOUT_MS = 30_000
"""Longest a statement of :func:`copy_events` may run before it fails (milliseconds)."""

_STAGING = "hub_events_in"
"""The per-connection temporary table ``COPY`` fills (emptied at every commit)."""


def copy_events(connection: Connection, rows: Iterable[Sequence[object]]) -> int:
    """Stage ``rows`` by ``COPY`` and move them into ``events``; the rows inserted.

    Runs inside the caller's transaction: the staging table is a temporary table of this
    session, ``ON COMMIT DELETE ROWS``, so a rolled-back batch leaves nothing behind and
    a later batch on the same pooled connection starts empty. Duplicates (already stored,
    or twice in ``rows``) are skipped by the unique index.
    """
    names = ", ".join(EVENT_COLUMNS)
    # bounded: a chunk stuck on a lock of a transaction whose client vanished is retried
    connection.execute(text(f"SET LOCAL statement_timeout = {COPY_TIMEOUT_MS}"))
    connection.execute(
        text(
            f"CREATE TEMP TABLE IF NOT EXISTS {_STAGING} "
            f"(LIKE {SCHEMA}.events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
    )
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {_STAGING} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    moved = connection.execute(
        text(
            f"INSERT INTO {SCHEMA}.events ({names}) SELECT {names} FROM {_STAGING} "
            "ON CONFLICT DO NOTHING"
        )
    )
    return int(moved.rowcount)


def insert_event(connection: Connection, row: Sequence[object]) -> int:
    """Insert one event row (in :data:`EVENT_COLUMNS` order); 1, or 0 when already stored."""
    names = ", ".join(EVENT_COLUMNS)
    marks = ", ".join(f":{name}" for name in EVENT_COLUMNS)
    done = connection.execute(
        text(f"INSERT INTO {SCHEMA}.events ({names}) VALUES ({marks}) ON CONFLICT DO NOTHING"),
        dict(zip(EVENT_COLUMNS, row, strict=True)),
    )
    return int(done.rowcount)


def _step_1(connection: Connection) -> None:
    metadata.create_all(connection)


def _step_2(connection: Connection) -> None:
    """The index of a district's (or a viewer's) search by reason.

    A no-op when step 1 already made it from the current :data:`metadata`.
    """
    connection.execute(
        text(
            "CREATE INDEX IF NOT EXISTS ix_hub_events_site_reason_time "
            f"ON {SCHEMA}.events (site_id, reason, occurred_at)"
        )
    )


def _step_3(connection: Connection) -> None:
    """Alarms coalesce: a row counts its raises and keeps the last one's time.

    A no-op when step 1 already made them from the current :data:`metadata`.
    """
    table = f"{SCHEMA}.alarms"
    connection.execute(
        text(
            f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS count integer NOT NULL DEFAULT 1, "
            "ADD COLUMN IF NOT EXISTS last_raised_at timestamp with time zone"
        )
    )
    fill = f"UPDATE {table} SET last_raised_at = raised_at WHERE last_raised_at IS NULL"
    connection.execute(text(fill))
    connection.execute(text(f"ALTER TABLE {table} ALTER COLUMN last_raised_at SET NOT NULL"))
    index = "ix_facegate_hub_alarms_last_raised_at"  # the name step 1 gives it
    connection.execute(text(f"CREATE INDEX IF NOT EXISTS {index} ON {table} (last_raised_at)"))


STEPS: tuple[Callable[[Connection], None], ...] = (_step_1, _step_2, _step_3)
"""The DDL steps in order; ``schema_version.version`` is how many have run."""


def migrate(connection: Connection) -> int:
    """Create the schema and run the steps not yet applied; returns the version now."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    connection.execute(
        text(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version (version integer NOT NULL)")
    )
    version = connection.execute(text(f"SELECT max(version) FROM {SCHEMA}.schema_version"))
    done = version.scalar() or 0
    for step in STEPS[done:]:
        step(connection)
    if done < len(STEPS):
        connection.execute(
            text(f"INSERT INTO {SCHEMA}.schema_version (version) VALUES (:v)"), {"v": len(STEPS)}
        )
    return len(STEPS)


def month_start(moment: datetime) -> datetime:
    """The first instant (UTC) of ``moment``'s month."""
    moment = moment.astimezone(UTC)
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def next_month(start: datetime) -> datetime:
    """The first instant of the month after ``start`` (itself a month start)."""
    return datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)


def partition_name(start: datetime) -> str:
    """``events_yYYYYmMM``: the partition of the month starting at ``start``."""
    return f"events_y{start.year:04d}m{start.month:02d}"


def ensure_month(connection: Connection, start: datetime) -> None:
    """Create the partition of the month starting at ``start`` unless it exists."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    connection.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{partition_name(start)} "
            f"PARTITION OF {SCHEMA}.events FOR VALUES FROM ('{start.isoformat()}') "
            f"TO ('{next_month(start).isoformat()}')"
        )
    )


def partitions(connection: Connection) -> list[tuple[str, datetime]]:
    """``(name, month start)`` of every events partition, oldest first."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE n.nspname = :s AND p.relname = 'events'"
        ),
        {"s": SCHEMA},
    )
    found = []
    for (name,) in rows:
        year, month = int(name[8:12]), int(name[13:15])
        found.append((name, datetime(year, month, 1, tzinfo=UTC)))
    return sorted(found, key=lambda item: item[1])


def drop_older_than(connection: Connection, cutoff: datetime) -> list[str]:
    """Drop every partition whose whole month ends at or before ``cutoff``; their names."""
    dropped = []
    for name, start in partitions(connection):
        if next_month(start) <= cutoff:
            connection.execute(text(f"DROP TABLE {SCHEMA}.{name}"))
            dropped.append(name)
    return dropped
