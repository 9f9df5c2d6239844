"""Use cases on the site itself: create it, verify its audit log, rotate its key."""

from __future__ import annotations

from facegate.domain.audit import ChainReport, verify_chain
from facegate.domain.site import Site
from facegate.ports import TemplateSealer
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
    """Re-wrap every person's data key under ``new_site_key``, in one transaction.

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
        new_key_id = rewrapped[0].site_key_id if rewrapped else None
        audit(uow, context, "site.rotate_key", None, {"keys": len(keys), "new_key_id": new_key_id})
        uow.commit()
    return len(keys)
