"""Purge what has outlived its retention period (see :mod:`facegate.domain.retention`).

The purge is itself audited, and trimming the audit log leaves a checkpoint record (see
:mod:`facegate.domain.audit`) so that what remains still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from facegate.domain.audit import TRIM_ACTION, DetailValue
from facegate.domain.retention import RetentionPolicy, cutoff
from facegate.ports import UnitOfWork
from facegate.services.context import ServiceContext, audit

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """How many records of each data class a purge deleted."""

    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Records deleted in all."""
        return sum(self.counts.values())


def _purge_moved_out(uow: UnitOfWork, context: ServiceContext, days: int) -> int:
    limit = cutoff(context.clock.now(), days)
    deleted = 0
    for person in uow.people.all():
        if person.moved_out_at is not None and person.moved_out_at <= limit:
            deleted += uow.templates.delete_for_person(person.id)
            uow.keys.delete(person.id)
    return deleted


def _trim_audit(uow: UnitOfWork, context: ServiceContext, days: int) -> int:
    """Delete audit records older than ``days``, after appending the checkpoint they need."""
    oldest, last = uow.audit.first_after(_EPOCH), uow.audit.last()
    if oldest is None or last is None:
        return 0
    first_kept = uow.audit.first_after(cutoff(context.clock.now(), days))
    # With every record past retention, the checkpoint itself starts the chain.
    first_seq, anchor = (
        (first_kept.seq, first_kept.prev_hash) if first_kept else (last.seq + 1, last.hash)
    )
    if first_seq <= oldest.seq:
        return 0
    trimmed = first_seq - oldest.seq
    details: dict[str, DetailValue] = {
        "first_seq": first_seq,
        "anchor_hash": anchor,
        "records": trimmed,
    }
    audit(uow, context, TRIM_ACTION, None, details)
    uow.audit.delete_before_seq(first_seq)
    return trimmed


def purge(context: ServiceContext, policy: RetentionPolicy) -> PurgeReport:
    """Delete every record past its retention period, in one transaction."""
    now = context.clock.now()
    with context.store.unit_of_work() as uow:
        counts = {
            "events": uow.events.delete_before(cutoff(now, policy.events_days)),
            "visitor_passes": uow.passes.delete_ended_before(
                cutoff(now, policy.visitor_passes_days)
            ),
            "alert_entries": uow.alerts.delete_expired_before(cutoff(now, policy.alerts_days)),
            "moved_out_templates": _purge_moved_out(uow, context, policy.moved_out_templates_days),
            "consents": uow.consents.delete_withdrawn_before(
                cutoff(now, policy.consent_proof_days)
            ),
            "snapshots": uow.snapshots.delete_before(cutoff(now, policy.snapshots_days)),
            "audit_records": _trim_audit(uow, context, policy.audit_days),
        }
        details: dict[str, DetailValue] = dict(counts)
        audit(uow, context, "retention.purge", None, details)
        uow.commit()
    context.store.reclaim_erased()
    return PurgeReport(counts)
