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

        An upstream that can (``prepare``, the site database's) checks every door's
        snapshot version at once first: the doors' reads below then cost no query
        while nothing changed (24 transactions a second before).
        """
        doors = list(self.doors())
        prepare = getattr(self.pool.upstream, "prepare", None)
        if prepare is not None and doors:
            try:
                prepare(SERVER_GATE_ID, doors)
            except FacegateError as err:  # each door's own read below tries again
                log.warning("kiosk doors not checked together: %s", err)
        for door_id in doors:
            try:
                self._keeper(door_id).apply()
            except FacegateError as err:
                log.warning("kiosk door %s not checked for the site mode: %s", door_id, err)

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
