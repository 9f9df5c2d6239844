"""Where audit checkpoints are signed and published (see :mod:`facegate.domain.audit_anchor`)."""

from __future__ import annotations

from typing import Protocol

from facegate.domain.audit_anchor import Checkpoint, SignedCheckpoint


class CheckpointSink(Protocol):
    """Somewhere a signed checkpoint is kept outside the database (a file, the city hub)."""

    def publish(self, signed: SignedCheckpoint) -> None:
        """Keep ``signed`` (raises an ``OSError`` or a facegate error when it cannot)."""
        ...


class AuditAnchor(CheckpointSink, Protocol):
    """The site's own anchor: signs checkpoints, keeps them, and reads them back verified."""

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        """``checkpoint`` signed with the anchor key."""
        ...

    def verified(self) -> tuple[list[Checkpoint], str | None]:
        """The kept checkpoints whose signatures verify, and the first problem if any."""
        ...
