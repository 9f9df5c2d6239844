"""The database schema as typed SQLAlchemy 2 ORM classes (the migrations mirror it).

No column holds a face image, and no column holds a template or data key in the clear:
``face_templates.sealed`` and ``data_keys.wrapped`` are AES-GCM ciphertext. Consent rows
and events carry the person's id without a foreign key, because they outlive an erasure
(consent as proof, events anonymised).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(36)
"""Column type of opaque ids (uuid4 hex or text form)."""

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)


class SiteRow(Base):
    """The one site this database holds."""

    __tablename__ = "sites"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64))


class PersonRow(Base):
    """A person (name is personal data: exported, erased, never audited)."""

    __tablename__ = "people"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[str | None] = mapped_column(ID)
    minor: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    moved_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ConsentRow(Base):
    """A consent record (outlives the person as proof; no foreign key)."""

    __tablename__ = "consents"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    text_version: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    method: Mapped[str] = mapped_column(String(32))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    guardian: Mapped[str | None] = mapped_column(String(200))


class DataKeyRow(Base):
    """A person's data key, wrapped by the site key."""

    __tablename__ = "data_keys"
    person_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    site_key_id: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)


class TemplateRow(Base):
    """A sealed face template."""

    __tablename__ = "face_templates"
    __table_args__ = (
        # The template index of a model (ids and people, in id order) read from the
        # index alone: no table rows visited, no sort (0010_cold).
        Index("ix_face_templates_model_id_id_person_id", "model_id", "id", "person_id"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    model_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class CardRow(Base):
    """An access card; its number is unique on the site."""

    __tablename__ = "cards"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PinRow(Base):
    """A person's PIN, as an scrypt hash."""

    __tablename__ = "pins"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), unique=True
    )
    pin_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PassRow(Base):
    """A visitor's QR pass (the code's SHA-256 only)."""

    __tablename__ = "visitor_passes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    host_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    visitor_name: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AlertRow(Base):
    """An alert-list entry."""

    __tablename__ = "alert_entries"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class EventRow(Base):
    """An access decision (``person_id`` nulled when the person is erased).

    ``seq`` is the insertion sequence (an identity column on PostgreSQL; on SQLite a
    trigger draws it from ``site_state.event_seq``): a reader that remembers the last
    ``seq`` it saw finds every later event (the city uplink follows it).
    """

    __tablename__ = "events"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    seq: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), Identity(), unique=True
    )
    door_id: Mapped[str] = mapped_column(ID)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    granted: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(ID, index=True)
    scores: Mapped[str] = mapped_column(Text)


class ReceiptRow(Base):
    """The idempotency key of an event a gate delivered: a second delivery is ignored."""

    __tablename__ = "gate_receipts"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    gate_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditRow(Base):
    """One audit record; ``prev_hash`` is unique, so two writers can never fork the chain."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(ID, unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject_id: Mapped[str | None] = mapped_column(ID)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class BuildingRow(Base):
    """A building of the site."""

    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))


class UnitRow(Base):
    """A flat or office."""

    __tablename__ = "units"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    building_id: Mapped[str] = mapped_column(ID, ForeignKey("buildings.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    floor: Mapped[int] = mapped_column(Integer)


class DoorRow(Base):
    """A door; ``accepted`` lists credential kinds, comma-separated and sorted."""

    __tablename__ = "doors"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[str] = mapped_column(String(64))
    building_id: Mapped[str | None] = mapped_column(ID, ForeignKey("buildings.id"))
    liveness: Mapped[str] = mapped_column(String(16), default="default", server_default="default")


class LiftRow(Base):
    """A lift; ``floors`` is a JSON list of the floors it serves."""

    __tablename__ = "lifts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    building_id: Mapped[str] = mapped_column(ID, ForeignKey("buildings.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    floors: Mapped[str] = mapped_column(Text)


class AccessRuleRow(Base):
    """An access rule; doors, floors and the schedule are JSON documents.

    ``building_id`` binds the floors to that building's lifts (``NULL``: every building).
    """

    __tablename__ = "access_rules"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str | None] = mapped_column(String(32))
    door_ids: Mapped[str] = mapped_column(Text)
    floors: Mapped[str] = mapped_column(Text)
    schedule: Mapped[str] = mapped_column(Text)
    building_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("buildings.id", ondelete="CASCADE")
    )


class UserRow(Base):
    """A console or portal login (Argon2 hash only)."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean)


class SessionRow(Base):
    """A logged-in session (the token's SHA-256 only)."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class DeviceKeyRow(Base):
    """A gate's API key (its SHA-256 only); revoked keys are kept as a record."""

    __tablename__ = "device_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    gate_id: Mapped[str] = mapped_column(ID, index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ResetTokenRow(Base):
    """A one-time password reset token (its SHA-256 only)."""

    __tablename__ = "reset_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DisclosureRow(Base):
    """A hand-over of data to an authority; ``data_classes`` is comma-separated, sorted."""

    __tablename__ = "disclosures"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    requesting_body: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    data_classes: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    approved_by: Mapped[str] = mapped_column(String(200))
    approved_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DisclosureSubjectRow(Base):
    """A person a disclosure is about (by id, no foreign key: it outlives an erasure)."""

    __tablename__ = "disclosure_subjects"
    disclosure_id: Mapped[str] = mapped_column(
        ID, ForeignKey("disclosures.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(ID, primary_key=True, index=True)


class GateRow(Base):
    """A gate registered for one door or lift; device keys name it in ``gate_id``."""

    __tablename__ = "gates"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    target_id: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AlarmRow(Base):
    """A raised alarm and its acknowledgement (ids only; outlives an erasure, no key)."""

    __tablename__ = "alarms"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    gate_id: Mapped[str] = mapped_column(String(64))
    door_id: Mapped[str] = mapped_column(ID)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    person_id: Mapped[str | None] = mapped_column(ID)
    note: Mapped[str] = mapped_column(Text)
    acked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    acked_by: Mapped[str | None] = mapped_column(String(200))
    ack_note: Mapped[str] = mapped_column(Text)


class SubjectRequestRow(Base):
    """A data subject's request (by person id, no key: it outlives their erasure)."""

    __tablename__ = "subject_requests"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)


class SnapshotRow(Base):
    """An event snapshot: a face crop, AES-GCM under its own data key; one per event.

    The data key is wrapped by the site key; ``person_id`` has no foreign key (erasure
    deletes by it).
    """

    __tablename__ = "event_snapshots"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True, unique=True)
    door_id: Mapped[str] = mapped_column(ID)
    person_id: Mapped[str | None] = mapped_column(ID, index=True)
    reason: Mapped[str] = mapped_column(String(32))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    site_key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class SiteStateRow(Base):
    """One row (``id`` 1): the site data version and the events' sequence counter (SQLite).

    ``data_version`` is bumped in the same transaction as every change a gate's decision
    depends on (see :mod:`facegate.store.versioning`); a gate compares it to decide
    whether its snapshot is current.
    """

    __tablename__ = "site_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    data_version: Mapped[int] = mapped_column(BigInteger)
    event_seq: Mapped[int] = mapped_column(BigInteger)


class SiteModeRow(Base):
    """One source's request for a site mode (see :mod:`facegate.domain.site_mode`).

    At most one row per source; ``normal`` is no row. A change bumps the site data
    version, so gates learn it with their next poll.
    """

    __tablename__ = "site_modes"
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(UtcDateTime)
    until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ZoneRow(Base):
    """An anti-passback zone (see :mod:`facegate.domain.passback`); ``reset_at`` ``HH:MM``."""

    __tablename__ = "zones"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    passback: Mapped[str] = mapped_column(String(8))
    reset_at: Mapped[str | None] = mapped_column(String(5))
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DoorZoneRow(Base):
    """A door's zone and direction (``in`` or ``out``); no row: the door is in no zone."""

    __tablename__ = "door_zones"
    door_id: Mapped[str] = mapped_column(
        ID, ForeignKey("doors.id", ondelete="CASCADE"), primary_key=True
    )
    zone: Mapped[str] = mapped_column(
        String(64), ForeignKey("zones.name", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))


class ZonePresenceRow(Base):
    """A person's presence in a zone, from their last granted passage there.

    Not a versioned table: a passage changes only the snapshots of that zone's doors,
    through their presence stamp (:meth:`facegate.store.zones.SqlZoneRepository.stamp`).
    """

    __tablename__ = "zone_presence"
    zone: Mapped[str] = mapped_column(
        String(64), ForeignKey("zones.name", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[str] = mapped_column(
        ID, ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    inside: Mapped[bool] = mapped_column(Boolean)
    since: Mapped[datetime] = mapped_column(UtcDateTime)


# The migrations (never ``create_all``) create this trigger and seed this row. A later
# SQLite ``batch_alter_table("events")`` rebuilds the table and drops the trigger: such
# a migration must create it again (tests/integration/test_site_version.py checks it).
SQLITE_EVENT_SEQ_TRIGGER = """
CREATE TRIGGER events_seq AFTER INSERT ON events WHEN NEW.seq IS NULL
BEGIN
    UPDATE site_state SET event_seq = event_seq + 1 WHERE id = 1;
    UPDATE events SET seq = (SELECT event_seq FROM site_state WHERE id = 1)
        WHERE rowid = NEW.rowid;
END
"""
"""SQLite has no identity column outside the primary key: a trigger numbers events."""

SITE_STATE_SEED = "INSERT INTO site_state (id, data_version, event_seq) VALUES (1, 1, 0)"
"""The one ``site_state`` row a new database starts with."""
