"""Anchor the audit chain outside the database: take signed checkpoints, verify against them.

Cadence: the web server takes a checkpoint when it starts and then every
``FACEGATE_SERVER__AUDIT_CHECKPOINT_EVERY_S`` seconds (default 900, 15 minutes);
``facegate audit checkpoint`` takes one on demand (from cron on sites without the
server). What was written after the newest checkpoint is not covered: it can be removed
or rewritten without the anchored verification noticing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from facegate.domain.audit import ChainReport, verify_chain
from facegate.domain.audit_anchor import (
    AnchorReport,
    SignedCheckpoint,
    check_anchored,
    checkpoint_of,
)
from facegate.domain.errors import FacegateError
from facegate.ports.anchors import AuditAnchor, CheckpointSink
from facegate.services.context import ServiceContext
from facegate.services.periodic import repeat

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


class PeriodicCheckpoints:
    """Takes a checkpoint now and then every ``every_s`` seconds in a daemon thread.

    A failed checkpoint (database or file unavailable) is reported to ``on_error`` and
    tried again at the next tick; it never stops the server.

    Args:
        context: the service context (its own store: this runs beside the requests).
        anchor: where checkpoints are signed and kept.
        every_s: the interval, in seconds.
        on_error: told about each failure.
        hub: further sinks (the city hub), after the anchor file.
    """

    def __init__(
        self,
        context: ServiceContext,
        anchor: AuditAnchor,
        every_s: float,
        on_error: Callable[[Exception], None],
        hub: Sequence[CheckpointSink] = (),
    ) -> None:
        self.context, self.anchor, self.every_s = context, anchor, every_s
        self.on_error, self.hub = on_error, hub
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-checkpoints", daemon=True)

    def _once(self) -> None:
        try:
            take_checkpoint(self.context, self.anchor, self.hub)
        except (FacegateError, OSError) as err:
            self.on_error(err)

    def _run(self) -> None:
        repeat(self._once, self.every_s, self._stop, None)

    def start(self) -> None:
        """Start the thread (the first checkpoint is taken at once)."""
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop after the checkpoint in progress, waiting up to ``timeout_s`` seconds."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
