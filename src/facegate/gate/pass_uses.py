"""Visitor pass uses granted here and not yet in the snapshot: a pass opens no more often.

A snapshot counts a pass's uses as the site database does, and the database counts a
use when the grant's event is delivered (:func:`facegate.services.gate_sync.receive_events`);
the gate sees it in its next snapshot. Meanwhile, a door that decided only from its
snapshot would open again for a one-time pass shown twice: at an offline edge gate as
often as it is shown, at the server's kiosk doors until the next snapshot round, at
two kiosk doors each once. :class:`PassUses` keeps, per pass, the least number of uses
it must have once this process's grants are counted (the snapshot's uses at the grant,
plus one), and a grant claims a use against the larger of that and the snapshot's
count, or is refused ``pass_used_up``. The server's doors share one (one process, one
count); each edge gate has its own (two offline gates cannot know of each other's
grants: at most one use per gate beyond the pass's uses, until they sync). An edge gate
restarted before its grants were delivered counts them again from its outbox
(:func:`restore`), so a restart does not give a used pass back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import datetime

from facegate.domain.credentials import VisitorPass
from facegate.domain.gate import GateEvent, GateSnapshot


class PassUses:
    """Uses of visitor passes claimed in this process, ahead of the snapshots; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._least: dict[str, tuple[int, datetime]] = {}  # pass id: (uses, valid until)

    def claim(self, visit: VisitorPass, now: datetime) -> bool:
        """Count one use of ``visit`` (as a snapshot holds it at ``now``); ``False``: used up.

        Passes whose validity ended by ``now`` are forgotten (none opens a door again).
        """
        with self._lock:
            for pass_id in [p for p, (_, until) in self._least.items() if until <= now]:
                del self._least[pass_id]
            least, _ = self._least.get(visit.id, (0, visit.valid_until))
            uses = max(visit.uses, least)
            if uses >= visit.max_uses:
                return False
            self._least[visit.id] = (uses + 1, visit.valid_until)
            return True

    def release(self, visit: VisitorPass) -> None:
        """Give back a use claimed by a grant that did not open (its lock failed)."""
        with self._lock:
            least, until = self._least.get(visit.id, (0, visit.valid_until))
            if least > 0:
                self._least[visit.id] = (least - 1, until)


def restore(
    uses: PassUses, snapshot: GateSnapshot, undelivered: Iterable[GateEvent], now: datetime
) -> int:
    """Count again the pass uses granted here whose events were not delivered yet.

    A gate restarted offline starts from its saved snapshot, which holds a pass's uses
    as delivered before it was saved: the grants still in the outbox are uses too. An
    event delivered but not yet marked so (a crash between the two) is counted twice:
    a pass then opens once less, never once more. A lift ride is not a use (as in
    :meth:`facegate.gate.controller.DoorController.decide_credential`).

    Returns:
        The uses counted.
    """
    if snapshot.target.is_lift:
        return 0
    visits = {visit.id: visit for visit in snapshot.access.passes.values()}
    counted = 0
    for event in undelivered:
        visit = visits.get(event.pass_id or "") if event.granted else None
        if visit is not None and event.door_id == snapshot.target.id:
            uses.claim(visit, now)
            counted += 1
    return counted
