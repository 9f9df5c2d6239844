"""The gate pipeline inside the site server: kiosk frames, typed credentials, remote unlock.

:class:`PipelineDecider` implements :class:`facegate.ports.FrameDecider`: each door that
posts frames (``POST /api/v1/doors/{door_id}/frames``) gets its own :class:`GateLoop`,
so a person's consecutive frames form one track (one embedding, and the frames a
multi-frame liveness check needs). A frame answers the decision it completed; while a
face is in view but not yet decided (the liveness check still needs frames) it answers
``spoof_suspected`` (not yet shown to be live; the kiosk keeps sending), without a face
``no_face``. Grants open the door's actuator; every decision goes through a durable
outbox into the site database at once, stored once by its key.

:class:`ActuatorOpener` implements :class:`facegate.ports.DoorOpener` for remote unlock
(the route audits it through :func:`facegate.services.activity.remote_unlock`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from facegate.domain.clock import Clock
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.gate import GateSnapshot, decision_event
from facegate.domain.policy import Decision, Presentation, Target, decide, deny
from facegate.domain.reasons import Reason
from facegate.gate.loop import GateLoop, LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.runner import SnapshotHolder
from facegate.ports import (
    ActuatorCommand,
    DoorActuator,
    Frame,
    FrameDecision,
    GateUpstream,
    LivenessCheck,
)
from facegate.vision.engine import FaceEngine
from facegate.vision.images import ImageLimits, load_image

SERVER_GATE_ID = "server"
"""The gate id of decisions the server makes itself (kiosk frames, typed credentials)."""


class ActuatorPool:
    """One actuator per door or lift, built on first use and kept.

    Args:
        build: builds the actuator of a target.
        upstream: where the target's description comes from.
    """

    def __init__(self, build: Callable[[Target], DoorActuator], upstream: GateUpstream) -> None:
        self._build, self.upstream = build, upstream
        self._actuators: dict[str, DoorActuator] = {}
        self._lock = threading.Lock()

    def get(self, target: Target) -> DoorActuator:
        """The actuator of ``target``."""
        with self._lock:
            if target.id not in self._actuators:
                self._actuators[target.id] = self._build(target)
            return self._actuators[target.id]

    def close(self) -> None:
        """Close every actuator."""
        with self._lock:
            for actuator in self._actuators.values():
                actuator.close()
            self._actuators.clear()


class ActuatorOpener:
    """Remote unlock through the door's own actuator (a :class:`facegate.ports.DoorOpener`).

    Args:
        pool: the actuators.
        unlock_duration_s: how long the door stays unlocked (seconds).
    """

    def __init__(self, pool: ActuatorPool, unlock_duration_s: float) -> None:
        self.pool, self.unlock_duration_s = pool, unlock_duration_s

    def open(self, door_id: str) -> None:
        """Open ``door_id`` once.

        Raises:
            ActuatorFailedError: the lock did not acknowledge (a ServiceUnavailableError).
            UpstreamUnavailableError: the door's description could not be read.
        """
        target = self.pool.upstream.fetch_snapshot(SERVER_GATE_ID, door_id).target
        command = ActuatorCommand(str(uuid.uuid4()), "unlock", self.unlock_duration_s)
        self.pool.get(target).send(command)


class PipelineDecider:
    """The gate pipeline for frames and credentials posted to the server.

    Args:
        engine: builds the face engine on first use (models load then, not at start).
        pool: the doors' actuators.
        outbox: the server's own outbox (delivered into the site database at once).
        liveness: builds the liveness check on first use (``None``: no check); its
            schedule is in ``options``.
        clock: the time source.
        options: the loop's tunables (its gate id is :data:`SERVER_GATE_ID`).
        limits: image limits for posted frames.
    """

    def __init__(
        self,
        engine: Callable[[], FaceEngine],
        pool: ActuatorPool,
        outbox: SqliteOutbox,
        liveness: Callable[[], LivenessCheck | None],
        clock: Clock,
        options: LoopOptions,
        limits: ImageLimits,
    ) -> None:
        self._engine, self.pool, self.outbox = engine, pool, outbox
        self.liveness, self.clock, self.options, self.limits = liveness, clock, options, limits
        self._loops: dict[str, tuple[GateLoop, SnapshotHolder]] = {}
        self._lock = threading.Lock()
        self._frames = 0

    def _loop(self, door_id: str) -> tuple[GateLoop, SnapshotHolder]:
        if door_id not in self._loops:
            holder = SnapshotHolder(self.pool.upstream, SERVER_GATE_ID, door_id)
            holder.refresh()
            actuator = self.pool.get(holder().target)
            loop = GateLoop(
                self._engine(),
                holder,
                actuator,
                self.outbox,
                self.liveness(),
                self.clock,
                self.options,
            )
            self._loops[door_id] = (loop, holder)
        return self._loops[door_id]

    def decide_frame(self, door_id: str, image: bytes) -> FrameDecision:
        """Run one encoded frame through ``door_id``'s loop; the decision it answers.

        Raises:
            BadInputError: the image is unreadable or too large.
            NotFoundError: unknown door.
            UpstreamUnavailableError: the site database is unreachable.
        """
        pixels = load_image(image, self.limits)
        with self._lock:
            loop, holder = self._loop(door_id)
            holder.refresh()
            self._frames += 1
            outcomes = loop.process(Frame(pixels, self._frames, self._frames / 25.0))
            decision, pending = (
                (outcomes[-1].decision, False) if outcomes else _pending(loop, self._frames)
            )
        self.outbox.flush(self.pool.upstream)
        return FrameDecision(decision.granted, decision.reason.value, self.clock.now(), pending)

    def decide_credential(self, door_id: str, kind: str, value: str) -> FrameDecision:
        """Decide from a card number or QR code (a PIN needs its person: ``unknown``)."""
        snapshot = self.pool.upstream.fetch_snapshot(SERVER_GATE_ID, door_id)
        presented = {
            "card": Presentation(card_number=value),
            "qr": Presentation(qr_code=value),
        }.get(kind)
        now = self.clock.now()
        if presented is None:
            decision = deny(Reason.UNKNOWN_CREDENTIAL)
        else:
            decision = decide(presented, snapshot.target, snapshot.access, now)
        decision = self._actuate(snapshot, decision) if decision.granted else decision
        self._record(snapshot, decision, now)
        return FrameDecision(decision.granted, decision.reason.value, now)

    def _actuate(self, snapshot: GateSnapshot, decision: Decision) -> Decision:
        action: Literal["unlock", "floors"] = "floors" if snapshot.target.is_lift else "unlock"
        command = ActuatorCommand(
            str(uuid.uuid4()), action, self.options.unlock_duration_s, decision.floors
        )
        try:
            self.pool.get(snapshot.target).send(command)
        except ActuatorFailedError:
            return deny(Reason.ACTUATOR_FAILED, decision.person_id, scores=decision.scores)
        return decision

    def _record(self, snapshot: GateSnapshot, decision: Decision, now: datetime) -> None:
        key = str(uuid.uuid4())
        self.outbox.put(decision_event(key, SERVER_GATE_ID, snapshot.target.id, now, decision))
        self.outbox.flush(self.pool.upstream)


def _pending(loop: GateLoop, index: int) -> tuple[Decision, bool]:
    """The answer to a frame that completed no decision, and whether it is still pending.

    The face's last decision when it has one; a pending ``spoof_suspected`` deny while
    its first decision waits (the door stays shut); ``no_face`` when there is no face.
    """
    tracks = [t for t in loop.tracker.tracks.values() if t.last_index == index]
    if not tracks:
        return deny(Reason.NO_FACE), False
    track = max(tracks, key=lambda t: t.box.area)
    if track.decision is not None:
        return track.decision, False
    return deny(Reason.SPOOF_SUSPECTED), True
