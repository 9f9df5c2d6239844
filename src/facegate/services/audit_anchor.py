"""Anchor the audit chain outside the database: take signed checkpoints, verify against them.

Cadence: the web server takes a checkpoint every ``FACEGATE_SERVER__AUDIT_CHECKPOINT_EVERY_S``
seconds (default 900, 15 minutes) and ``facegate audit checkpoint`` takes one on demand
(with ``--every`` it repeats). What was written after the newest checkpoint is not
covered: it can be removed or rewritten without the anchored verification noticing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facegate.domain.audit import ChainReport, verify_chain
from facegate.domain.audit_anchor import (
    AnchorReport,
    SignedCheckpoint,
    check_anchored,
    checkpoint_of,
)
from facegate.ports.anchors import AuditAnchor, CheckpointSink
from facegate.services.context import ServiceContext

NOT_COVERED = (
    "records written after the newest checkpoint are not covered: they can be removed or "
    "rewritten without trace until the next checkpoint"
)
"""What the anchored verification does not show, said with every answer."""


def take_checkpoint(
    context: ServiceContext, anchor: AuditAnchor, hub: Sequence[CheckpointSink] = ()
) -> SignedCheckpoint:
    """Sign the chain's current head and publish it to ``anchor`` and then to ``hub``.

    Raises:
        KeyFileError: the anchor key exists but is unreadable.
        OSError: the checkpoint file cannot be written.
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        head = uow.audit.last()
    signed = anchor.sign(checkpoint_of(head, context.clock.now()))
    anchor.publish(signed)
    for sink in hub:
        sink.publish(signed)
    return signed


@dataclass(frozen=True, slots=True)
class AnchoredReport:
    """The chain's own verdict and its verdict against the checkpoints.

    Attributes:
        chain: the hash chain checked end to end.
        anchor: the chain checked against the signed checkpoints.
    """

    chain: ChainReport
    anchor: AnchorReport

    @property
    def intact(self) -> bool:
        """Whether both verdicts are clean."""
        return self.chain.intact and self.anchor.intact


def verify_anchored(context: ServiceContext, anchor: AuditAnchor) -> AnchoredReport:
    """Check the chain end to end and against every signed checkpoint.

    Raises:
        KeyFileError: the anchor's public key is missing or unreadable.
        DatabaseUnavailableError: the database cannot be reached.
    """
    with context.store.unit_of_work() as uow:
        records = uow.audit.all()
    checkpoints, problem = anchor.verified()
    if problem is not None:
        report = AnchorReport(len(checkpoints), problem=problem)
    else:
        report = check_anchored(records, checkpoints)
    return AnchoredReport(verify_chain(records), report)
