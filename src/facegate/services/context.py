"""What every data service needs: the store, a clock, who acts; and the audit helper."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from facegate.domain.audit import AuditRecord, DetailValue, next_record
from facegate.ports import Clock, Store, UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """The environment of one use case.

    Attributes:
        store: the database.
        clock: the time source.
        actor: who acts, as audit records name them (``cli:alice``), never a data subject.
    """

    store: Store
    clock: Clock
    actor: str


def new_id() -> str:
    """A fresh opaque id (a random UUID in text form, 36 characters)."""
    return str(uuid.uuid4())


def audit(
    uow: UnitOfWork,
    context: ServiceContext,
    action: str,
    subject_id: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
) -> AuditRecord:
    """Append an audit record in ``uow``'s transaction (it commits with the change itself).

    Args:
        uow: the unit of work the audited change happens in.
        context: who acts and when.
        action: ``noun.verb``, e.g. ``person.add``.
        subject_id: opaque id of the person or record acted on.
        details: further facts; never names or biometric data.
    """
    record = next_record(
        uow.audit.last(),
        id=new_id(),
        occurred_at=context.clock.now(),
        actor=context.actor,
        action=action,
        subject_id=subject_id,
        details=details,
    )
    uow.audit.append(record)
    return record
