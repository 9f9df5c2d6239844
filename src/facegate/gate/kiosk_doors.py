"""The site server's kiosk doors in open modes: held open like an edge gate's door.

``facegate serve`` decides for the doors whose gates are kiosks (a browser posting
frames); no gate process of their own holds them open in ``free_passage`` or ``fire``.
:class:`KioskDoorsOpen` does, about every second: for each door with a registered kiosk
gate, an :class:`~facegate.gate.site_mode.OpenDoorKeeper` on the server's snapshot of
that door and its actuator (the server's actuator pool). Doors served by edge gates are
left to their gates.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from facegate.domain.clock import Clock
from facegate.domain.errors import FacegateError
from facegate.domain.gate import GateEvent
from facegate.domain.policy import SiteMode
from facegate.gate.server_side import SERVER_GATE_ID, ActuatorPool
from facegate.gate.site_mode import OpenDoorKeeper

log = logging.getLogger(__name__)


class KioskDoorsOpen:
    """Holds the kiosk doors open while the site mode opens doors freely.

    Args:
        pool: the server's actuators (and its upstream, for each door's snapshot).
        doors: lists the ids of the doors with a kiosk gate.
        clock: the time source.
        record: where an ``actuator_failed`` alarm goes (the server's outbox).
    """

    def __init__(
        self,
        pool: ActuatorPool,
        doors: Callable[[], Iterable[str]],
        clock: Clock,
        record: Callable[[GateEvent], None],
    ) -> None:
        self.pool, self.doors, self.clock, self.record = pool, doors, clock, record
        self._keepers: dict[str, OpenDoorKeeper] = {}
        self.mode = SiteMode.NORMAL

    def _keeper(self, door_id: str) -> OpenDoorKeeper:
        keeper = self._keepers.get(door_id)
        if keeper is None:
            upstream = self.pool.upstream
            target = upstream.fetch_snapshot(SERVER_GATE_ID, door_id).target
            actuator = self.pool.get(target)
            keeper = OpenDoorKeeper(
                lambda: upstream.fetch_snapshot(SERVER_GATE_ID, door_id),
                actuator,
                self.clock,
                self.record,
                SERVER_GATE_ID,
            )
            self._keepers[door_id] = keeper
        return keeper

    def tick(self) -> None:
        """Renew the open doors now (a door that cannot be read is logged, skipped).

        The site mode is read first where the upstream can (``mode_now``, the site
        database's): while it does not open doors freely nothing more is read or built
        (before, each tick after a change rebuilt every kiosk door's snapshot, at 25,000
        residents about half a second of CPU, work the kiosk refresher does anyway).
        Then an upstream that can (``prepare``) checks every door's snapshot version at
        once: the doors' reads below cost no query while nothing changed (24
        transactions a second before).
        """
        doors = list(self.doors())
        if not doors or not self._may_open():
            return
        prepare = getattr(self.pool.upstream, "prepare", None)
        if prepare is not None:
            try:
                prepare(SERVER_GATE_ID, doors)
            except FacegateError as err:  # each door's own read below tries again
                log.warning("kiosk doors not checked together: %s", err)
        for door_id in doors:
            try:
                self._keeper(door_id).apply()
            except FacegateError as err:
                log.warning("kiosk door %s not checked for the site mode: %s", door_id, err)

    def _may_open(self) -> bool:
        """Whether the doors' snapshots are to be read now.

        Yes when the mode opens doors freely, or when the upstream cannot tell the mode
        alone (each snapshot's mode then decides).
        """
        mode_now = getattr(self.pool.upstream, "mode_now", None)
        if mode_now is None:
            return True
        try:
            mode: SiteMode = mode_now(SERVER_GATE_ID)
        except FacegateError as err:  # the snapshots' reads try again
            log.warning("site mode not read for the kiosk doors: %s", err)
            return True
        if mode is not self.mode:
            log.warning("site mode at the kiosk doors: %s -> %s", self.mode, mode)
            self.mode = mode
        return mode.opens_freely

    def start(self, every_s: float = 1.0) -> threading.Event:
        """Tick every ``every_s`` seconds on a daemon thread; set the event to stop."""
        stop = threading.Event()

        def run() -> None:
            failing = False
            while not stop.wait(every_s):
                try:
                    self.tick()
                except Exception:  # supervised: logged once per outage, the next tick comes
                    if not failing:
                        log.exception("holding kiosk doors open failed; trying again")
                    failing = True
                else:
                    failing = False

        threading.Thread(target=run, name="facegate-kiosk-doors", daemon=True).start()
        return stop
