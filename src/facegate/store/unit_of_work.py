"""The SQL unit of work (one transaction over every repository) and the store that opens it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from facegate.ports import (
    AccessRuleRepository,
    AccountRepository,
    AlertRepository,
    AuditRepository,
    ConsentRepository,
    CredentialRepository,
    DisclosureRepository,
    EventRepository,
    KeyRepository,
    PassRepository,
    PersonRepository,
    PlaceRepository,
    SiteRepository,
    TemplateRepository,
)
from facegate.ports.archive import TableRepository
from facegate.ports.gates import GateRepository, SiteModeRepository, SiteReads
from facegate.ports.work import AlarmRepository, SnapshotRepository, SubjectRequestRepository
from facegate.ports.zones import ZoneRepository
from facegate.store.accounts import SqlAccountRepository
from facegate.store.alarms import SqlAlarmRepository
from facegate.store.database import reclaim_erased, translated_errors, writer_turns
from facegate.store.disclosures import SqlDisclosureRepository
from facegate.store.dump import SqlTableRepository
from facegate.store.journal import (
    SqlAlertRepository,
    SqlAuditRepository,
    SqlEventRepository,
    SqlPassRepository,
)
from facegate.store.places import SqlAccessRuleRepository, SqlPlaceRepository
from facegate.store.repositories import (
    SqlConsentRepository,
    SqlCredentialRepository,
    SqlKeyRepository,
    SqlPersonRepository,
    SqlSiteRepository,
    SqlTemplateRepository,
)
from facegate.store.site_modes import SqlSiteModeRepository
from facegate.store.site_reads import SqlGateRepository, SqlSiteReads
from facegate.store.snapshots import SqlSnapshotRepository
from facegate.store.subject_requests import SqlSubjectRequestRepository
from facegate.store.versioning import VersionedSession
from facegate.store.zones import SqlZoneRepository


class SqlUnitOfWork:
    """One database transaction; leaving it without :meth:`commit` rolls back.

    SQLAlchemy errors raised inside the ``with`` block leave it as facegate errors
    (:func:`facegate.store.database.translated_errors`).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._session = VersionedSession(engine, expire_on_commit=False)
        self._turns = writer_turns(engine)
        self._turn_held = False
        self.site: SiteRepository = SqlSiteRepository(self._session)
        self.people: PersonRepository = SqlPersonRepository(self._session)
        self.consents: ConsentRepository = SqlConsentRepository(self._session)
        self.keys: KeyRepository = SqlKeyRepository(self._session)
        self.templates: TemplateRepository = SqlTemplateRepository(self._session)
        self.credentials: CredentialRepository = SqlCredentialRepository(self._session)
        self.passes: PassRepository = SqlPassRepository(self._session)
        self.alerts: AlertRepository = SqlAlertRepository(self._session)
        self.events: EventRepository = SqlEventRepository(self._session)
        self.audit: AuditRepository = SqlAuditRepository(self._session, self._take_turn)
        self.places: PlaceRepository = SqlPlaceRepository(self._session)
        self.rules: AccessRuleRepository = SqlAccessRuleRepository(self._session)
        self.accounts: AccountRepository = SqlAccountRepository(self._session)
        self.disclosures: DisclosureRepository = SqlDisclosureRepository(self._session)
        self.tables: TableRepository = SqlTableRepository(self._session)
        self.gates: GateRepository = SqlGateRepository(self._session)
        self.site_modes: SiteModeRepository = SqlSiteModeRepository(self._session)
        self.zones: ZoneRepository = SqlZoneRepository(self._session)
        self.reads: SiteReads = SqlSiteReads(self._session)
        self.alarms: AlarmRepository = SqlAlarmRepository(self._session)
        self.requests: SubjectRequestRepository = SqlSubjectRequestRepository(self._session)
        self.snapshots: SnapshotRepository = SqlSnapshotRepository(self._session)

    def __enter__(self) -> SqlUnitOfWork:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._session.rollback()
        finally:
            self._session.close()
            self._give_turn()
        if isinstance(value, SQLAlchemyError):
            with translated_errors(self._engine):
                raise value

    def commit(self) -> None:
        """Make everything done in this unit permanent, or nothing of it."""
        try:
            with translated_errors(self._engine):
                self._session.commit()
        finally:
            self._give_turn()

    def _take_turn(self) -> None:
        """Queue for the SQLite write lock behind this process's other writers."""
        if self._turns is not None and not self._turn_held:
            self._turns.take()
            self._turn_held = True

    def _give_turn(self) -> None:
        if self._turns is not None and self._turn_held:
            self._turn_held = False
            self._turns.give_back()


class SqlStore:
    """A database reached through SQLAlchemy.

    Args:
        engine: the engine (see :func:`facegate.store.database.create_db_engine`).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def unit_of_work(self) -> SqlUnitOfWork:
        """A new unit of work."""
        return SqlUnitOfWork(self.engine)

    def reclaim_erased(self) -> None:
        """Make deleted rows unrecoverable from the files (see :func:`reclaim_erased`)."""
        reclaim_erased(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
