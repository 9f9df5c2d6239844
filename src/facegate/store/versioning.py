"""The site data version: bumped in the same transaction as every change a decision reads.

A gate (or the server's kiosk path) compares the version it built its snapshot from with
``site_state.data_version`` (one primary-key read) and rebuilds only when it moved. The
bump happens in one place, two SQLAlchemy session hooks on every session of the store:

- ``before_flush``: an ORM row of a :data:`VERSIONED_TABLES` table is new, changed or
  deleted;
- ``do_orm_execute``: a bulk ``UPDATE``/``DELETE`` statement on one of those tables (the
  erasure's ``delete_for_person`` calls, retention).

The bump is an ``UPDATE site_state SET data_version = data_version + 1`` in the same
transaction, so the new version is visible exactly when the change is, and a rolled back
change leaves the version as it was.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, event, select, update
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from facegate.store.schema import SiteStateRow

VERSIONED_TABLES = frozenset(
    {
        "sites",
        "people",
        "consents",
        "data_keys",
        "face_templates",
        "cards",
        "pins",
        "visitor_passes",
        "alert_entries",
        "access_rules",
        "buildings",
        "units",
        "doors",
        "lifts",
        "gates",
        "site_modes",
        "zones",
        "door_zones",
    }
)
"""Tables whose rows a gate's decision depends on (the snapshot is built from them)."""

_STATE = SiteStateRow.__table__
_BUMP = (
    update(SiteStateRow)
    .where(SiteStateRow.id == 1)
    .values(data_version=SiteStateRow.data_version + 1)
)


def data_version(session: Session) -> int:
    """The site data version as this session's transaction sees it (0 before migration)."""
    value = session.execute(select(SiteStateRow.data_version).where(SiteStateRow.id == 1))
    return int(value.scalar_one_or_none() or 0)


def _bump(session: Session) -> None:
    """Bump the version once per transaction (the first change of it is enough).

    Readers see the new version when the transaction commits, with all of its changes,
    so one bump serves every later flush of it (a bulk import's batch flushes thousands
    of times). The transaction (and the savepoint, if one was open) is remembered in
    ``session.info``; a new transaction (after a commit or a rollback) bumps again, and
    so does one whose savepoint of the bump ended (rolled back, or released: one more
    bump is harmless).
    """
    bumped = session.info.get(_BUMPED)
    if (
        bumped is not None
        and bumped[0] is session.get_transaction()
        and (bumped[1] is None or bumped[1].is_active)
    ):
        return
    session.connection().execute(_BUMP.execution_options(facegate_bump=True))
    session.info[_BUMPED] = (session.get_transaction(), session.get_nested_transaction())


_BUMPED = "facegate_bumped_in"
"""``session.info`` key of the transaction that bumped the version already."""


def _touches_versioned(session: Session) -> bool:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__table__", None)
        if isinstance(table, Table) and table.name in VERSIONED_TABLES:
            if instance in session.dirty and not session.is_modified(instance):
                continue
            return True
    return False


def _before_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if _touches_versioned(session):
        _bump(session)


def _do_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    if state.execution_options.get("facegate_bump"):
        return
    table = getattr(state.statement, "table", None)
    if isinstance(table, Table) and table.name in VERSIONED_TABLES:
        _bump(state.session)


class VersionedSession(Session):
    """A session whose changes to :data:`VERSIONED_TABLES` bump the site data version."""


event.listen(VersionedSession, "before_flush", _before_flush)
event.listen(VersionedSession, "do_orm_execute", _do_orm_execute)
