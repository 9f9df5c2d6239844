"""Use cases on the site itself: create, verify its audit log, rotate its key, back up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from facegate.domain.audit import ChainReport, verify_chain
from facegate.domain.errors import ArchiveError
from facegate.domain.site import Site
from facegate.ports import SiteDump, TemplateSealer
from facegate.services.context import ServiceContext, audit, new_id


def init_site(context: ServiceContext, name: str, time_zone: str) -> tuple[Site, bool]:
    """Create the site, or return the existing one.

    Returns:
        ``(site, created)``; ``created`` is ``False`` when the site already existed (its
        name and time zone are left as they were).

    Raises:
        ValidationError: empty name or unknown time zone.
    """
    with context.store.unit_of_work() as uow:
        existing = uow.site.get()
        if existing is not None:
            return existing, False
        site = Site(new_id(), name.strip(), time_zone)
        uow.site.add(site)
        audit(uow, context, "site.init", site.id, {"time_zone": time_zone})
        uow.commit()
    return site, True


def verify_audit(context: ServiceContext) -> ChainReport:
    """Check the whole audit chain (see :func:`facegate.domain.audit.verify_chain`)."""
    with context.store.unit_of_work() as uow:
        return verify_chain(uow.audit.all())


def rotate_site_key(context: ServiceContext, sealer: TemplateSealer, new_site_key: bytes) -> int:
    """Re-wrap every data key (people's, event snapshots') under ``new_site_key``, at once.

    The caller installs the new key only after this returns; until then the old key
    stays valid, so a failure leaves the site working under the old key.

    Returns:
        How many data keys were re-wrapped.

    Raises:
        KeyFileError: a data key was not wrapped by ``sealer``'s site key.
    """
    with context.store.unit_of_work() as uow:
        keys = uow.keys.all()
        rewrapped = [sealer.rewrap(key, new_site_key) for key in keys]
        for key in rewrapped:
            uow.keys.put(key)
        snapshots = uow.snapshots.sealed_all()
        for snapshot_id, sealed in snapshots:
            uow.snapshots.replace_key(
                snapshot_id, sealer.rewrap_snapshot(snapshot_id, sealed, new_site_key)
            )
        new_key_id = rewrapped[0].site_key_id if rewrapped else None
        details = {"keys": len(keys), "snapshots": len(snapshots), "new_key_id": new_key_id}
        audit(uow, context, "site.rotate_key", None, details)
        uow.commit()
    return len(keys)


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    """What a backup held or a restore wrote.

    Attributes:
        revision: the schema revision of the rows.
        rows: rows in all.
        tables: rows per table.
        audit_intact: after a restore, whether the restored audit chain verifies.
    """

    revision: str
    rows: int
    tables: dict[str, int]
    audit_intact: bool | None = None


def backup_site(context: ServiceContext, save: Callable[[SiteDump], None]) -> ArchiveReport:
    """Hand every row to ``save`` (which encrypts and writes the archive); audited.

    The ``site.backup`` audit record is written first, in the same transaction, so the
    archive holds the record of its own making; if ``save`` fails nothing is recorded.
    """
    with context.store.unit_of_work() as uow:
        audit(uow, context, "site.backup")
        dump = uow.tables.dump()
        save(dump)
        uow.commit()
    counts = {name: len(rows) for name, rows in dump.tables.items()}
    return ArchiveReport(dump.revision, dump.rows, counts)


def restore_site(context: ServiceContext, dump: SiteDump) -> ArchiveReport:
    """Write every row of ``dump`` into this empty database, in one transaction; audited.

    Raises:
        ArchiveError: the database holds rows already, or the rows do not fit its schema.
        ConflictError: the rows break a constraint (nothing is written).
    """
    with context.store.unit_of_work() as uow:
        if not uow.tables.is_empty():
            raise ArchiveError("the database is not empty: restore needs a new, empty one")
        rows = uow.tables.load(dump)
        audit(uow, context, "site.restore", None, {"revision": dump.revision, "rows": rows})
        intact = verify_chain(uow.audit.all()).intact
        uow.commit()
    counts = {name: len(rows) for name, rows in dump.tables.items()}
    return ArchiveReport(dump.revision, rows, counts, intact)
