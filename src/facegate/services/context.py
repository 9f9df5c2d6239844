"""What every data service needs: the store, a clock, who acts; and the audit helper."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from facegate.domain.audit import AuditRecord, DetailValue, next_record
from facegate.domain.errors import AuditConflictError
from facegate.ports import Clock, Store, UnitOfWork


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """The environment of one use case.

    Attributes:
        store: the database.
        clock: the time source.
        actor: who acts, as audit records name them (``cli:alice``), never a data subject.
        pause: sleeps for the given seconds (the back-off between audit append attempts).
    """

    store: Store
    clock: Clock
    actor: str
    pause: Callable[[float], None] = field(default=time.sleep)


AUDIT_APPEND_ATTEMPTS = 5
"""How often an audit append is tried when other writers keep taking the next link."""
AUDIT_BACKOFF_S = 0.02
"""Base back-off between attempts (seconds); attempt n waits up to base * 2**n, jittered."""


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

    The chain's head is read holding its append lock
    (:meth:`facegate.ports.AuditRepository.last_for_append`), so concurrent appenders
    queue. Should another writer still take the next link first, the link is read again
    and the append retried after a short jittered back-off, so the chain stays linear.

    Args:
        uow: the unit of work the audited change happens in.
        context: who acts and when.
        action: ``noun.verb``, e.g. ``person.add``.
        subject_id: opaque id of the person or record acted on.
        details: further facts; never names or biometric data.

    Raises:
        AuditConflictError: other writers took the next link on every attempt.
    """
    for attempt in range(AUDIT_APPEND_ATTEMPTS):
        record = next_record(
            uow.audit.last_for_append(),
            id=new_id(),
            occurred_at=context.clock.now(),
            actor=context.actor,
            action=action,
            subject_id=subject_id,
            details=details,
        )
        try:
            uow.audit.append(record)
        except AuditConflictError:
            if attempt + 1 == AUDIT_APPEND_ATTEMPTS:
                raise
            context.pause(random.uniform(0, AUDIT_BACKOFF_S * 2**attempt))
            continue
        return record
    raise AssertionError("unreachable")
