"""Composition root: the one place that builds engines and adapters from settings."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from facegate.config import Settings
from facegate.domain.errors import (
    ArchiveError,
    KeyFileError,
    SiteNotInitializedError,
)
from facegate.ports import SiteDump
from facegate.services import site_admin
from facegate.services.context import ServiceContext
from facegate.store.archive import open_archive, read_archive, seal_archive, write_archive
from facegate.store.crypto import (
    AesGcmSealer,
    generate_key,
    parse_site_key,
    read_site_key_file,
    site_key_id,
    write_site_key_file,
)
from facegate.vision.engine import EngineSpec, FaceEngine
from facegate.vision.photos import EnginePhotoDescriber

if TYPE_CHECKING:
    from facegate.store.unit_of_work import SqlStore

# SQLAlchemy and Alembic (about 40 MB) load with the first database a process opens: a
# gate on the HTTP upstream never opens one.


def engine_spec(settings: Settings) -> EngineSpec:
    """The face engine ``settings`` describe."""
    return EngineSpec(
        detection=settings.detection,
        embedding=settings.embedding,
        quality=settings.quality,
        cache_dir=settings.cache_dir,
    )


def build_engine(settings: Settings) -> FaceEngine:
    """A face engine as ``settings`` configure it (loads the models, converts on first use)."""
    return FaceEngine(engine_spec(settings))


def build_photo_describer(settings: Settings, require_quality: bool) -> EnginePhotoDescriber:
    """A describer of people's photos for evaluation, calibration and verification."""
    return EnginePhotoDescriber(build_engine(settings), settings.images, require_quality)


class SystemClock:
    """The host's clock, in UTC (a :class:`facegate.ports.Clock`)."""

    def now(self) -> datetime:
        """The current moment, timezone-aware, in UTC."""
        return datetime.now(UTC)


def operator_name() -> str:
    """Who runs this process, as audit records name them (``cli:<login>``)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def build_store(settings: Settings, *, migrate: bool = False) -> SqlStore:
    """The site's database; with ``migrate`` create it (SQLite) and upgrade it to head.

    Raises:
        SiteNotInitializedError: without ``migrate``, no database or an outdated schema.
        DatabaseUnavailableError: the database cannot be reached.
        BadInputError: a malformed database URL.
    """
    from facegate.store.database import create_db_engine, current_revision, describe, head_revision
    from facegate.store.database import upgrade as upgrade_database
    from facegate.store.unit_of_work import SqlStore

    if settings.db_url is None:
        if not migrate and not settings.database_path.is_file():
            raise SiteNotInitializedError(
                f"no site database at {settings.database_path}: "
                "run 'facegate site init --name NAME'"
            )
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    engine = create_db_engine(settings.database_url)
    if migrate:
        upgrade_database(engine)
    else:
        revision, head = current_revision(engine), head_revision()
        if revision != head:
            engine.dispose()
            raise SiteNotInitializedError(
                f"database {describe(engine)} is at schema {revision or 'none'}, this facegate "
                f"needs {head}: run 'facegate site init'"
            )
    return SqlStore(engine)


def service_context(settings: Settings, store: SqlStore) -> ServiceContext:
    """The context data services run in: this store, the system clock, this operator."""
    return ServiceContext(store=store, clock=SystemClock(), actor=operator_name())


def load_site_key(settings: Settings) -> bytes:
    """The site key: ``FACEGATE_SITE_KEY`` when set, else the key file.

    Raises:
        KeyFileError: missing, malformed, or (the file) readable by others.
    """
    if settings.site_key is not None:
        return parse_site_key(settings.site_key.get_secret_value(), "FACEGATE_SITE_KEY")
    return read_site_key_file(settings.site_key_path)


def ensure_site_key(settings: Settings) -> str:
    """Check the site key, creating the key file (mode 0600) when there is none.

    Returns:
        Where the key comes from: ``"environment"``, ``"created"`` or ``"file"``.

    Raises:
        KeyFileError: the key in the environment or the existing file is malformed.
    """
    if settings.site_key is not None:
        load_site_key(settings)
        return "environment"
    if not settings.site_key_path.exists():
        write_site_key_file(settings.site_key_path, generate_key())
        return "created"
    load_site_key(settings)
    return "file"


def build_sealer(settings: Settings) -> AesGcmSealer:
    """The template sealer under this site's key (see :func:`load_site_key`)."""
    return AesGcmSealer(load_site_key(settings))


@dataclass(frozen=True, slots=True)
class KeyRotation:
    """The outcome of a site key rotation.

    Attributes:
        keys: data keys re-wrapped.
        site_key_id: fingerprint of the new site key.
        staged: where the new key waits for the operator (the key came from the
            environment, so it must be put there); ``None`` when the key file was replaced.
    """

    keys: int
    site_key_id: str
    staged: Path | None


def rotate_site_key(settings: Settings, context: ServiceContext) -> KeyRotation:
    """Make a new site key, re-wrap every data key under it, and install it.

    The new key is first written beside the old one (``site.key.new``, mode 0600); only
    after the database committed the re-wrapped keys does it replace ``site.key``. A
    failure before the commit removes it and leaves the old key in force.

    Raises:
        KeyFileError: the current key is wrong or malformed, or an unfinished rotation
            left ``site.key.new`` behind.
    """
    sealer = build_sealer(settings)
    staged = settings.site_key_path.with_name(settings.site_key_path.name + ".new")
    if staged.exists():
        raise KeyFileError(
            f"{staged} exists: an earlier rotation did not finish. If 'facegate identify' "
            "works with it as the site key, move it over site.key; otherwise delete it"
        )
    new_key = generate_key()
    write_site_key_file(staged, new_key)
    try:
        count = site_admin.rotate_site_key(context, sealer, new_key)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if settings.site_key is not None:
        return KeyRotation(count, site_key_id(new_key), staged)
    os.replace(staged, settings.site_key_path)
    return KeyRotation(count, site_key_id(new_key), None)


def backup_site(settings: Settings, context: ServiceContext, out: Path) -> site_admin.ArchiveReport:
    """Write the whole site database to ``out`` as an encrypted archive; audited.

    See :mod:`facegate.store.archive` for the format.

    Raises:
        KeyFileError: no usable site key.
        ArchiveError: ``out`` exists or cannot be written.
    """
    site_key = load_site_key(settings)
    if out.exists():
        raise ArchiveError(f"{out} exists: choose a new file for the backup")

    def save(dump: SiteDump) -> None:
        write_archive(out, seal_archive(site_key, dump, context.clock.now()))

    return site_admin.backup_site(context, save)


def restore_site(settings: Settings, archive: Path) -> site_admin.ArchiveReport:
    """Restore an archive into this site's empty database (created and migrated if needed).

    The archive is read, authenticated and checked against this facegate's schema
    before the database is touched; the rows are then written in one transaction.

    Raises:
        KeyFileError: no usable site key, or the archive was made under another.
        ArchiveError: unreadable, altered or truncated archive; another schema revision;
            a database that is not empty.
    """
    from facegate.store.database import head_revision

    dump = open_archive(load_site_key(settings), read_archive(archive))
    if dump.revision != head_revision():
        raise ArchiveError(
            f"the archive is at schema {dump.revision}, this facegate at {head_revision()}: "
            "restore it with the facegate version that made it"
        )
    store = build_store(settings, migrate=True)
    try:
        return site_admin.restore_site(service_context(settings, store), dump)
    finally:
        store.close()
