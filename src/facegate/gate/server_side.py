"""The gate pipeline inside the site server: kiosk frames, typed credentials, remote unlock.

:class:`PipelineDecider` implements :class:`facegate.ports.FrameDecider`. Each door that
posts frames (``POST /api/v1/doors/{door_id}/frames``) or credentials gets its own
:class:`DoorStation`: its snapshot holder, its :class:`DoorController` (the same one the
edge gate decides with), its :class:`Perception` (built on the first frame), its locks (one
for frames, a short one for the controller: a card is not held up by a frame's face work),
its frame counter and its clock (frame times from the monotonic clock since the
station was built, seconds). A person's consecutive frames form one track (the frames a
multi-frame liveness check needs); since a kiosk's frames are separate photos, a decided
track's face is described again before its decision is reused. A frame answers the
decision it completed; while a face is in view but not yet decided (the liveness check
still needs frames) it answers ``spoof_suspected`` (not yet shown to be live; the kiosk
keeps sending), without a face ``no_face``. The doors share one count of the visitor
pass uses they granted (:mod:`facegate.gate.pass_uses`). An exception while deciding is a deny
``internal_error`` with its event. Grants open the door's actuator; every decision goes
through a durable outbox into the site database at once, stored once by its key.

:class:`ActuatorOpener` implements :class:`facegate.ports.DoorOpener` for remote unlock
(the route audits it through :func:`facegate.services.activity.remote_unlock`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from facegate.domain.clock import Clock
from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import Box
from facegate.domain.gate import GateEventKind
from facegate.domain.policy import Decision, Target, deny
from facegate.domain.reasons import Reason
from facegate.domain.site import DoorLiveness, kiosk_check
from facegate.gate.challenge_desk import ChallengeDesk, ChallengeSetup
from facegate.gate.controller import AlarmSink, DoorController, Outcome
from facegate.gate.loop import LoopOptions, conclude
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.pass_uses import PassUses
from facegate.gate.perception import FaceWork, Observation, Perception
from facegate.gate.runner import SnapshotHolder
from facegate.ports import (
    ActuatorCommand,
    DoorActuator,
    Frame,
    FrameDecision,
    GateUpstream,
    LivenessCheck,
)
from facegate.vision.images import ImageLimits, RgbImage, load_image

log = logging.getLogger(__name__)

SnapshotSink = Callable[[str, RgbImage, Box, Decision, str], None]
"""Keeps a snapshot of a denied face: door id, frame pixels, face box, decision, event key."""

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


@dataclass(slots=True)
class DoorStation:
    """One door's decision state on the server (nothing shared with other doors).

    Attributes:
        holder: the door's snapshot.
        controller: the door's controller.
        lock: one frame of the door at a time (its perception, tracks and challenge).
            The controller's own ``guard`` (its decision lock) is held only for a
            decision step, never for a frame's face work, so a card or code at the door
            is answered while a frame of the door is being looked at; it is taken after
            ``lock`` when both are held.
        perception: the door's camera pipeline (built on its first frame).
        frames: frames seen so far (the next frame's index).
        started: the decider's monotonic clock when the station was built (frame times
            count from there, seconds).
        desk: the door's challenges, when its liveness mode is the challenge.
        checked_by: the liveness mode the perception was built for (``challenge`` or
            ``passive``; a change of the door's setting builds it again).
    """

    holder: SnapshotHolder
    controller: DoorController
    lock: threading.Lock = field(default_factory=threading.Lock)
    perception: Perception | None = None
    frames: int = 0
    started: float = 0.0
    desk: ChallengeDesk | None = None
    checked_by: str = ""


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
        alarms: where the doors' alarms go (default: the outbox, raised on delivery).
        refresh_s: when set, one background thread keeps every door's snapshot current
            (a cheap version check each ``refresh_s`` seconds, a rebuild on change) and
            frames and credentials decide from the snapshot held, never waiting for a
            rebuild; ``None`` (default) checks on each frame instead (a rebuild then
            lands in that frame's time).
        snapshots: given a denied face decision's door, frame, face box, decision and
            event key, keeps a snapshot (``None``, the default: none are kept; see
            ``Settings.snapshots``). Called after the answer is decided and the event
            delivered; a failure is logged, the decision stands.
        challenge: what challenge mode needs (``None``: not available; a door set to
            ``challenge`` then answers its frames 503 and takes cards only).
        monotonic: the clock of the doors' frame times (seconds; default
            ``time.monotonic``).
    """

    def __init__(
        self,
        engine: Callable[[], FaceWork],
        pool: ActuatorPool,
        outbox: SqliteOutbox,
        liveness: Callable[[], LivenessCheck | None],
        clock: Clock,
        options: LoopOptions,
        limits: ImageLimits,
        alarms: AlarmSink | None = None,
        refresh_s: float | None = None,
        snapshots: SnapshotSink | None = None,
        challenge: ChallengeSetup | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine, self.pool, self.outbox = engine, pool, outbox
        self.challenge = challenge
        self.snapshots = snapshots
        self._refresher = None if refresh_s is None else SnapshotRefresher(self, refresh_s)
        self.liveness, self.clock, self.options, self.limits = liveness, clock, options, limits
        self.alarms, self.monotonic = alarms, monotonic
        self._stations: dict[str, DoorStation] = {}
        self._lock = threading.Lock()
        self.passes = PassUses()
        """The visitor pass uses the doors granted, shared: a one-time pass opens one door."""

    def station(self, door_id: str) -> DoorStation:
        """The station of ``door_id``, built on first use.

        Raises:
            NotFoundError: unknown door.
            UpstreamUnavailableError: the site database is unreachable.
        """
        with self._lock:
            station = self._stations.get(door_id)
        if station is not None:
            return station
        holder = SnapshotHolder(self.pool.upstream, SERVER_GATE_ID, door_id)
        holder.refresh()
        actuator = self.pool.get(holder().target)
        options = self.options.controller()
        controller = DoorController(
            holder, actuator, self.outbox, self.clock, options, self.alarms, self.passes
        )
        with self._lock:
            built = DoorStation(holder, controller, started=self.monotonic())
            station = self._stations.setdefault(door_id, built)
        if self._refresher is not None:
            self._refresher.ensure_running()
        return station

    def stations(self) -> list[DoorStation]:
        """The doors' stations built so far."""
        with self._lock:
            return list(self._stations.values())

    def _keep_current(self, station: DoorStation) -> None:
        """Check the door's snapshot now, unless the refresher keeps it current."""
        if self._refresher is None:
            station.holder.refresh()

    def decide_frame(
        self, door_id: str, image: bytes | RgbImage, card: str | None = None
    ) -> FrameDecision:
        """Run one frame through ``door_id``'s station; the decision it answers.

        Args:
            door_id: the door.
            image: the encoded frame, or its pixels already decoded (RGB).
            card: a card number read with the frame: presented to the door's controller
                first (on an ``all_of`` door it waits ``card_window_s`` for the face).

        Raises:
            BadInputError: the image is unreadable or too large.
            NotFoundError: unknown door.
            UpstreamUnavailableError: the site database is unreachable.
            ModelUnavailableError: the face engine or liveness model is missing.
        """
        pixels = load_image(image, self.limits) if isinstance(image, bytes) else image
        station = self.station(door_id)
        with station.lock:
            self._keep_current(station)
            if card is not None:
                with station.controller.guard:
                    station.controller.present_card(card)
            perception = self._perception(station)
            index = station.frames
            station.frames += 1
            frame = Frame(pixels, index, self.monotonic() - station.started)
            decision, pending, denied = self._decide(station, perception, frame)
            view = None if station.desk is None else station.desk.view
        self.outbox.flush(self.pool.upstream)
        if denied is not None and self.snapshots is not None:
            self._keep_snapshot(door_id, pixels, decision, denied)
        if view is not None and view.status == "pending":
            pending = True  # the face is answering its prompts: the kiosk keeps sending
        return FrameDecision(
            decision.granted, decision.reason.value, self.clock.now(), pending, view
        )

    def _keep_snapshot(
        self, door_id: str, pixels: RgbImage, decision: Decision, denied: tuple[Box, str]
    ) -> None:
        assert self.snapshots is not None
        box, event_key = denied
        try:
            self.snapshots(door_id, pixels, box, decision, event_key)
        except Exception:  # the answer is decided: a snapshot failure must not change it
            log.exception("snapshot of event %s not kept", event_key)

    def _perception(self, station: DoorStation) -> Perception:
        """The station's perception, built again when the door's liveness mode changed."""
        mode = self._liveness_mode(station.holder().target.liveness)
        if station.perception is None or station.checked_by != mode:
            # A kiosk's frames are separate photos: anyone may be in the next one.
            options = replace(self.options.perception(), continuity_s=0.0)
            if mode == "challenge":
                assert self.challenge is not None
                perception = Perception(self._engine(), None, options)
                controller = station.controller
                station.desk = ChallengeDesk(
                    self.challenge,
                    perception.describe,
                    lambda note: controller.raise_alarm(GateEventKind.CHALLENGE_FAILURES, note),
                )
                station.perception = perception
            else:
                station.desk = None
                station.perception = Perception(self._engine(), self.liveness(), options)
            station.checked_by = mode
        return station.perception

    def _liveness_mode(self, setting: DoorLiveness) -> str:
        """``challenge`` or ``passive``: how this server checks a door's faces.

        Raises:
            ModelUnavailableError: the door asks for the challenge and this server has
                none (its frames answer 503; cards still work).
        """
        by_default = self.challenge is not None and self.challenge.by_default
        if kiosk_check(setting, "passive" if by_default else "none") != "challenge":
            return "passive"
        if self.challenge is None:
            raise ModelUnavailableError("this server runs no challenge mode for kiosk doors")
        return "challenge"

    @staticmethod
    def _decide(
        station: DoorStation, perception: Perception, frame: Frame
    ) -> tuple[Decision, bool, tuple[Box, str] | None]:
        """The answer, whether it is pending, and a denied face's box and event key.

        The last is set only when this frame completed a deny of a face (what a snapshot
        is kept of).
        """
        controller, desk = station.controller, station.desk
        screen = None if desk is None else desk.screen
        try:
            seen, outcome = conclude(perception, controller, frame, time.perf_counter(), screen)
            if seen is None and desk is not None:
                desk.no_face(frame.timestamp_s)
        except Exception as error:  # fail closed: a deny, never a 500
            with controller.guard:
                outcome = controller.fail_closed(error, 0, frame.index)
            return outcome.decision, False, None
        decision, pending = _answer(seen, outcome)
        denied = None
        if seen is not None and outcome is not None and not outcome.decision.granted:
            denied = (seen.track.box, outcome.event_key)
        return decision, pending, denied

    def decide_credential(self, door_id: str, kind: str, value: str) -> FrameDecision:
        """Decide from a card number or QR code (a PIN needs its person: ``unknown``).

        Holds only the door's decision lock (the controller's ``guard``): a frame of the
        door being looked at (detection, description, liveness) does not hold the card up.
        """
        station = self.station(door_id)
        self._keep_current(station)
        with station.controller.guard:
            try:
                outcome = station.controller.decide_credential(kind, value)
            except Exception as error:  # fail closed: a deny, never a 500
                outcome = station.controller.fail_closed(error)
        self.outbox.flush(self.pool.upstream)
        return FrameDecision(
            outcome.decision.granted, outcome.decision.reason.value, self.clock.now()
        )


class SnapshotRefresher:
    """One thread that keeps every door station's snapshot current (started on first use).

    Each round first lets an upstream that can (``prepare``, the site database's) check
    every door's snapshot version in one transaction and build every changed door's
    snapshot in one more, then asks every station's holder for the current snapshot:
    the version just read stands in for the holder's own check (no query while nothing
    changed), and a changed door gets the snapshot just built (or a rebuild of its own,
    shared by the doors through the store's row cache), so a change reaches every door
    within about ``every_s`` plus one rebuild. One commit per round instead of one per
    door. A failed round keeps the
    snapshots held and is logged; the thread goes on. Frames and credentials read the
    snapshot held and never wait for a rebuild.

    Args:
        decider: whose stations to refresh.
        every_s: seconds between rounds.
    """

    def __init__(self, decider: PipelineDecider, every_s: float) -> None:
        # Weak: the thread ends once the decider is gone (tests build many servers).
        self._decider, self.every_s = weakref.ref(decider), every_s
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread unless it runs."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="facegate-kiosk-snapshots", daemon=True
                )
                self._thread.start()

    def refresh_all(self) -> bool:
        """One round: refresh every station's snapshot (failures logged, old ones kept).

        Returns:
            ``False`` when the decider is gone (nothing left to refresh).
        """
        decider = self._decider()
        if decider is None:
            return False
        stations = decider.stations()
        prepare = getattr(decider.pool.upstream, "prepare", None)
        if prepare is not None and stations:
            try:  # every changed door's snapshot in one transaction
                prepare(SERVER_GATE_ID, [s.holder.target_id for s in stations])
            except Exception:  # the holders' own polls below still try one by one
                log.exception("kiosk snapshots not rebuilt together")
        for station in stations:
            try:
                station.holder.refresh()
            except Exception:  # a broken round must not end the refreshing
                log.exception("kiosk snapshot not refreshed; deciding from the one held")
        return True

    def _run(self) -> None:
        while True:
            time.sleep(self.every_s)
            if not self.refresh_all():
                return


def _answer(seen: Observation | None, outcome: Outcome | None) -> tuple[Decision, bool]:
    """The answer to a frame, and whether it is still pending.

    The decision the frame completed; else the face's last decision when it holds for
    this face; a pending ``spoof_suspected`` deny while its first decision waits (the
    door stays shut); ``no_face`` when there is no face.
    """
    if outcome is not None:
        return outcome.decision, False
    if seen is None:
        return deny(Reason.NO_FACE), False
    decision = seen.track.decision
    if decision is None or seen.held:
        return deny(Reason.SPOOF_SUSPECTED), True
    return decision, False
