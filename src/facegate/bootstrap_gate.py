"""Composition root of a gate (kept apart so ordinary CLI commands do not import it).

Builds a gate process from settings: its face engine, upstream, actuator, liveness
check and the snapshot file it starts from when the upstream is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

import numpy as np
import numpy.typing as npt

from facegate.bootstrap import SystemClock, build_engine, build_sealer, build_store, load_site_key
from facegate.config import Settings
from facegate.domain.challenge import PoseSample
from facegate.domain.clock import Clock
from facegate.domain.errors import BadInputError, ModelUnavailableError
from facegate.domain.faces import Box
from facegate.domain.gate import GateEvent, GateSnapshot
from facegate.domain.liveness import FaceFrame, LivenessSchedule
from facegate.domain.policy import Target
from facegate.gate.actuators import HttpRelay, SimulatedDoor
from facegate.gate.challenge_desk import PoseReader
from facegate.gate.contact import ContactMonitor, MonitoredDoor, alarm_to_outbox
from facegate.gate.controller import EventSink
from facegate.gate.edge_snapshots import EdgeSnapshots, LoopBoxes
from facegate.gate.fire_input import MqttFireInput, fire_event_recorder, fire_topics
from facegate.gate.frame_tap import FrameTap
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.lane import LaneLoop
from facegate.gate.loop import GateLoop, LoopOptions
from facegate.gate.mqtt import MqttDoor, topic_base
from facegate.gate.osdp import OsdpBus, OsdpDevice, OsdpRelay, open_channel
from facegate.gate.osdp_door import OsdpDoor, OsdpDoorWiring
from facegate.gate.osdp_keys import read_key
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.paired_source import PairedSource
from facegate.gate.pass_uses import restore as restore_pass_uses
from facegate.gate.runner import RunningGate, SnapshotHolder, SyncThread, mode_follower
from facegate.gate.site_mode import LocalInputs, OpenDoorKeeper
from facegate.gate.snapshot_file import FILE_KEY_LABEL, SnapshotFile, snapshot_path
from facegate.gate.snapshot_wire import derive_gate_key, gate_wire_key
from facegate.gate.sources import open_source
from facegate.gate.store_upstream import StoreUpstream
from facegate.messaging.email_alarms import EmailAlarmSender, SmtpAccount
from facegate.messaging.mqtt_alarms import MqttAlarmPublisher, alarm_topic
from facegate.messaging.webhook import WebhookNotifier
from facegate.ports import DoorActuator, FrameSource, GateUpstream, LivenessCheck, SensorCue
from facegate.services.alarm_log import alarm_recorder
from facegate.services.alarm_routing import RetryingChannel, RoutedChannel, check_routes
from facegate.services.alarms import AlarmChannel, AlarmFeed, AlarmRelay, AlarmService
from facegate.services.context import ServiceContext
from facegate.vision.detection import FaceDetector
from facegate.vision.engine import FaceEngine
from facegate.vision.liveness.challenge_pose import pose_sample
from facegate.vision.liveness.check import FusedLivenessCheck
from facegate.vision.liveness.face_mesh import FaceMeshModel
from facegate.vision.liveness.frame_cue import SHIPPED as SHIPPED_FRAME_WEIGHTS
from facegate.vision.liveness.motion import MotionSettings
from facegate.vision.liveness.nir import NirCue
from facegate.vision.liveness.texture_model import load_texture_model
from facegate.vision.threads import limit_threads


def build_gate_liveness(settings: Settings) -> tuple[LivenessCheck | None, LivenessSchedule]:
    """The gate's liveness check as ``settings.gate.liveness`` says, and its schedule.

    ``none`` checks nothing. ``motion`` needs no trained file: the multi-frame cue with
    FaceMesh's blink and speech measures. ``layered`` (the default) adds the shipped
    single-frame screen-and-print cue; ``fused`` adds the texture model instead
    (``settings.gate.texture_model``).

    Raises:
        ModelUnavailableError: the FaceMesh model file, or ``fused``'s texture model, is
            missing.
    """
    gate, schedule = settings.gate, settings.gate.liveness_schedule()
    if gate.liveness == "none":
        return None, schedule
    texture = None
    if gate.liveness == "fused":
        if gate.texture_model is None:
            raise ModelUnavailableError("liveness 'fused' needs FACEGATE_GATE__TEXTURE_MODEL")
        texture = load_texture_model(gate.texture_model)
    frame = SHIPPED_FRAME_WEIGHTS if gate.liveness == "layered" else None
    check = FusedLivenessCheck(
        texture,
        MotionSettings(),
        _sensor_cues(settings),
        mesh=FaceMeshModel(gate.threads),
        frame=frame,
    )
    return check, schedule


def build_pose_reader(settings: Settings) -> PoseReader:
    """Challenge mode's pose reader: FaceMesh head pose, eyelids and lips of a face frame.

    Raises:
        ModelUnavailableError: the FaceMesh model file or its runtime is missing.
    """
    mesh = FaceMeshModel(settings.gate.threads)

    def read(frame: FaceFrame, time_s: float, track_id: int) -> PoseSample | None:
        return pose_sample(mesh, frame, time_s, track_id)

    return read


def _sensor_cues(settings: Settings) -> list[SensorCue]:
    """The NIR cue when the gate has a NIR camera (``nir_camera``), else none."""
    if settings.gate.nir_camera is None:
        return []
    detector = FaceDetector(settings.detection)

    def detect(image: npt.NDArray[np.uint8]) -> list[Box]:
        return [found.box for found in detector.detect(image)]

    return [NirCue(detect, settings.gate.nir_max_skew_s)]


def build_gate_source(settings: Settings, colour: FrameSource) -> FrameSource:
    """``colour``, paired with the NIR camera by time when ``nir_camera`` is set.

    Raises:
        CameraFailedError: the NIR camera cannot be opened.
    """
    if settings.gate.nir_camera is None:
        return colour
    nir = open_source(settings.gate.nir_camera)
    return PairedSource(colour, nir, settings.gate.nir_max_skew_s)


def build_gate_engine(settings: Settings) -> FaceEngine:
    """The face engine of a gate: its stream detector, no fallback on empty frames.

    The detector is ``settings.gate.stream_detector()`` (BlazeFace by default, its boxes mapped to
    the ones dlib's landmark model expects); no detector runs again on a frame without a
    face (a stream is mostly empty frames).

    The detector and the embedder run once on blank pixels, so the first person at the
    door does not pay for the runtime's first-call set-up (about 2 s with ONNX Runtime).
    The process's compute threads are capped to ``settings.gate.threads`` first (default
    1: frames run one per worker thread, each with its own engine, and more runtime
    threads per engine only fight over the same cores; measured with two workers
    embedding at once on the 2-core box at load about 17: p50 / p95 81-95 / 151 ms per
    descriptor with one runtime thread per core, 44-48 / 71 ms with one).
    """
    threads = limit_threads(settings.gate.threads)
    detection = replace(
        settings.detection,
        model=settings.gate.stream_detector(),
        fallback=None,
        threads=threads,
    )
    embedding = settings.embedding
    if embedding.threads is None:
        embedding = replace(embedding, threads=threads)
    engine = build_engine(
        settings.model_copy(update={"detection": detection, "embedding": embedding})
    )
    engine.detector.detect(np.zeros((240, 320, 3), np.uint8))
    engine.embedder.embed([np.zeros((150, 150, 3), np.uint8)])
    return engine


def _device_key(settings: Settings) -> str:
    """The gate's device key for the ``http`` upstream.

    Raises:
        BadInputError: ``server_url`` or ``device_key`` is missing.
    """
    gate = settings.gate
    if gate.server_url is None or gate.device_key is None:
        raise BadInputError(
            "upstream 'http' needs FACEGATE_GATE__SERVER_URL and FACEGATE_GATE__DEVICE_KEY"
        )
    return gate.device_key.get_secret_value()


def build_upstream(settings: Settings, engine: FaceEngine, clock: Clock) -> GateUpstream:
    """The gate's upstream as ``settings.gate.upstream`` says (site database or server).

    Raises:
        BadInputError: ``http`` without ``server_url`` or ``device_key``.
        KeyFileError: ``store`` without a readable site key.
    """
    gate = settings.gate
    if gate.upstream == "http":
        secret = _device_key(settings)
        return HttpUpstream(
            str(gate.server_url), gate.gate_id, secret, engine.model_id, gate.http_timeout_s
        )
    match, _ = settings.match_policy(engine.model_id)
    store = StoreUpstream(
        lambda: build_store(settings),
        build_sealer(settings),
        clock,
        engine.model_id,
        match,
    )
    # On the site database the gate receives its own events: it raises their alarms.
    return AlarmRelay(store, _store_alarms(settings))


def build_alarm_service(
    settings: Settings,
    webhook: WebhookNotifier | None,
    feed: AlarmFeed | None = None,
    record: Callable[[GateEvent], None] | None = None,
) -> AlarmService:
    """The site's alarm service: console feed, webhook, MQTT alarm topic, e-mail.

    Each channel takes the alarm types ``settings.notify.routes`` sends it.

    MQTT only with ``FACEGATE_SERVER__ALARM_MQTT=true``, at the gate settings' broker,
    on ``<mqtt_prefix>/<mqtt_site>/alarm``; e-mail only with ``FACEGATE_NOTIFY__SMTP_HOST``.
    The webhook and e-mail are retried with back-off (``retry_attempts``,
    ``retry_backoff_s``); MQTT is queued by its client while the broker is away.

    Raises:
        BadInputError: a route to an unknown channel or of an unknown alarm type, or
            e-mail without a recipient.
    """
    notify = settings.notify
    check_routes(notify.routes)

    def retried(name: str, send: Callable[[dict[str, str]], None]) -> RetryingChannel:
        return RetryingChannel(name, send, notify.retry_attempts, notify.retry_backoff_s)

    named: list[tuple[str, Callable[[dict[str, str]], object]]] = []
    if webhook is not None:
        named.append(("webhook", retried("webhook", webhook.send)))
    if settings.server.alarm_mqtt:
        gate = settings.gate
        topic = alarm_topic(gate.mqtt_prefix, gate.mqtt_site)
        named.append(("mqtt", MqttAlarmPublisher(gate.mqtt_host, gate.mqtt_port, topic)))
    if notify.smtp_host:
        password = notify.smtp_password.get_secret_value() if notify.smtp_password else None
        account = SmtpAccount(
            notify.smtp_host,
            notify.smtp_port,
            notify.smtp_starttls,
            notify.smtp_user,
            password,
            notify.smtp_timeout_s,
        )
        mail = EmailAlarmSender(account, notify.email_from, notify.email_to)
        named.append(("email", retried("email", mail.send)))
    channels: list[AlarmChannel] = [
        RoutedChannel(name, channel, notify.routes) for name, channel in named
    ]
    return AlarmService(channels, feed, record=record)


def _store_alarms(settings: Settings) -> AlarmService:
    """The alarm service of a gate on the site database.

    It receives its own events and stores its alarms in the site's alarm log.
    """
    server = settings.server
    webhook = None
    if server.webhook_url:
        webhook = WebhookNotifier(server.webhook_url, server.webhook_timeout_s)

    @cache
    def context() -> ServiceContext:  # on the first alarm: the gate starts offline too
        return ServiceContext(store=build_store(settings), clock=SystemClock(), actor="alarms")

    return build_alarm_service(settings, webhook, record=alarm_recorder(context))


def snapshot_file_key(settings: Settings) -> bytes:
    """The 32-byte key of the gate's snapshot file.

    On the ``http`` upstream, the per-gate key the site server seals the wire snapshot
    with (from the device key); on ``store``, a key derived from the site key (HKDF,
    label :data:`facegate.gate.snapshot_file.FILE_KEY_LABEL`, info the gate id).

    Raises:
        BadInputError: ``http`` without ``server_url`` or ``device_key``.
        KeyFileError: ``store`` without a readable site key.
    """
    gate = settings.gate
    if gate.upstream == "http":
        return gate_wire_key(_device_key(settings), gate.gate_id)
    return derive_gate_key(load_site_key(settings), gate.gate_id, FILE_KEY_LABEL)


def build_snapshot_file(settings: Settings, clock: Clock) -> SnapshotFile:
    """The gate's snapshot file, ``<data-dir>/gate/snapshot.<gate_id>.bin``.

    Raises:
        BadInputError: a gate id unfit for a file name, or see :func:`snapshot_file_key`.
        KeyFileError: see :func:`snapshot_file_key`.
    """
    gate_id = settings.gate.gate_id
    path = snapshot_path(settings.data_dir / "gate", gate_id)
    return SnapshotFile(path, gate_id, snapshot_file_key(settings), clock)


def build_osdp_bus(settings: Settings) -> OsdpBus | None:
    """The gate's OSDP bus (not started), ``None`` without ``osdp_channel``.

    Its devices are the reader and the output board, each with its Secure Channel key.

    Raises:
        BadInputError: a malformed channel, or a channel without ``osdp_reader``.
        KeyFileError: a device's key is missing or unusable.
    """
    gate = settings.gate
    if gate.osdp_channel is None:
        return None
    if gate.osdp_reader is None:
        raise BadInputError("FACEGATE_GATE__OSDP_CHANNEL needs FACEGATE_GATE__OSDP_READER")
    addresses = dict.fromkeys((gate.osdp_reader, gate.osdp_board or gate.osdp_reader))
    devices = [OsdpDevice(a, read_key(settings.data_dir, a), f"pd-{a}") for a in addresses]
    return OsdpBus(open_channel(gate.osdp_channel), devices)


def attach_osdp(
    bus: OsdpBus,
    settings: Settings,
    loop: GateLoop,
    parts: tuple[ContactMonitor, LocalInputs, SqliteOutbox, Clock],
    door_id: str,
) -> OsdpDoor:
    """Connect the bus to the door (cards, PINs, inputs, feedback) and start it."""
    gate, (monitor, local, outbox, clock) = settings.gate, parts
    wiring = OsdpDoorWiring(
        gate.osdp_reader or 0, gate.osdp_contact_input, gate.osdp_fire_input, gate.unlock_duration_s
    )
    changed = fire_event_recorder(outbox.put, clock, gate.gate_id, door_id)
    door = OsdpDoor(
        loop.controller,
        wiring,
        clock,
        outbox.put,
        (gate.gate_id, door_id),
        monitor.contact if gate.osdp_contact_input is not None else None,
        local,
        changed,
    )
    bus.listener, door.bus = door, bus
    bus.start()
    return door


def build_actuator(
    settings: Settings,
    target: Target,
    on_contact: Callable[[str], None] | None,
    bus: OsdpBus | None = None,
) -> DoorActuator:
    """The door's or lift's actuator as ``settings.gate.actuator`` says.

    MQTT topics are ``topic_base(prefix, site, "door" | "lift", target.id)``; a door also
    publishes its Home Assistant discovery config. ``osdp`` is the relay of the output
    board ``osdp_board`` (default: the reader) on ``bus``.

    Raises:
        BadInputError: ``http`` without ``http_url``, a lift's URL without ``{floors}``,
            ``osdp`` without a bus.
    """
    gate = settings.gate
    if gate.actuator == "simulated":
        return SimulatedDoor()
    if gate.actuator == "osdp":
        board = gate.osdp_board or gate.osdp_reader
        if bus is None or board is None:
            raise BadInputError("actuator 'osdp' needs FACEGATE_GATE__OSDP_CHANNEL and _READER")
        return OsdpRelay(bus, board, gate.osdp_relay_output, gate.ack_timeout_s)
    if gate.actuator == "http":
        if gate.http_url is None:
            raise BadInputError("actuator 'http' needs FACEGATE_GATE__HTTP_URL")
        return HttpRelay(gate.http_url, gate.ack_timeout_s, lift=target.is_lift)
    kind = "lift" if target.is_lift else "door"
    base = topic_base(gate.mqtt_prefix, gate.mqtt_site, kind, target.id)
    door = MqttDoor(gate.mqtt_host, gate.mqtt_port, base, gate.ack_timeout_s, on_contact)
    if not target.is_lift:
        name = target.name or target.id
        door.publish_discovery(name, gate.mqtt_prefix, gate.mqtt_site, target.id)
    return door


def build_loop(
    settings: Settings,
    engine: FaceEngine,
    snapshot: Callable[[], GateSnapshot],
    actuator: DoorActuator,
    outbox: EventSink,
    clock: Clock,
) -> GateLoop:
    """The frame loop of ``settings.gate.profile``: a door's, or a lane's.

    A lane unlocks once per grant (one passage credit each), so a person's presence in
    view does not hold back the next grant for them (``leave_after_s`` 0).

    Raises:
        ModelUnavailableError: a liveness model is configured but missing.
    """
    gate = settings.gate
    liveness, schedule = build_gate_liveness(settings)
    options = LoopOptions(
        gate.gate_id, gate.unlock_duration_s, gate.decide_after_s, schedule, gate.card_window_s
    )
    if gate.profile == "lane":
        lane = replace(options, leave_after_s=0.0)
        return LaneLoop(
            engine,
            snapshot,
            actuator,
            outbox,
            liveness,
            clock,
            lane,
            line_fraction=gate.lane_line_fraction,
        )
    return GateLoop(engine, snapshot, actuator, outbox, liveness, clock, options)


def build_gate(
    settings: Settings,
    door_id: str,
    engine: FaceEngine | None = None,
    upstream: GateUpstream | None = None,
    clock: Clock | None = None,
) -> RunningGate:
    """A gate for the door or lift ``door_id``, ready to :meth:`RunningGate.start`.

    Fetches the first snapshot (the gate cannot decide without one; when the upstream is
    unreachable, it starts from the snapshot file saved by the last sync), opens the outbox at
    ``settings.outbox_path``, builds the actuator and, on MQTT, a contact monitor whose
    door-forced-open and door-held-open alarms go to the outbox. The site mode: an
    :class:`OpenDoorKeeper` holds the door open while the mode opens doors freely (checked
    on each new snapshot, each local input change and every second), and with
    ``fire_mqtt`` the fire panel's MQTT topics are local inputs (:mod:`facegate.gate.fire_input`).

    Raises:
        UpstreamUnavailableError: no snapshot could be fetched, and no usable one saved.
        NotFoundError: no door or lift ``door_id``.
        ModelUnavailableError: a liveness model is configured but missing.
    """
    gate, clock = settings.gate, clock or SystemClock()
    engine = engine or build_gate_engine(settings)
    local = LocalInputs()
    holder = SnapshotHolder(
        upstream or build_upstream(settings, engine, clock),
        gate.gate_id,
        door_id,
        build_snapshot_file(settings, clock),
        gate.snapshot_max_age_s,
        local,
    )
    holder.refresh()
    target = holder().target
    outbox = SqliteOutbox(settings.outbox_path)
    monitor = ContactMonitor(
        clock, gate.held_open_s, alarm_to_outbox(outbox, clock, gate.gate_id, door_id)
    )
    bus = build_osdp_bus(settings)
    inner = build_actuator(settings, target, None if target.is_lift else monitor.contact, bus)
    actuator: DoorActuator = MonitoredDoor(inner, monitor)
    loop = build_loop(settings, engine, holder, actuator, outbox, clock)
    if isinstance(loop, LaneLoop):  # the lane's gate line counts the crossings
        loop.watch_tailgating(window_s=gate.unlock_duration_s + 3.0)
    elif gate.tailgate_face_px > 0 and not target.is_lift:
        loop.watch_tailgating(gate.tailgate_face_px, gate.unlock_duration_s + 3.0)
    monitor.on_closed = loop.controller.door_cycled
    restore_pass_uses(loop.controller.passes, holder(), outbox.pending_pass_grants(), clock.now())
    holder.probes.backlog = outbox.pending_count  # the health each poll reports
    holder.probes.camera = lambda: "failed" if getattr(loop, "_camera_down", False) else "ok"
    holder.probes.liveness = lambda: gate.liveness
    holder.probes.door = lambda: monitor.state
    keeper = OpenDoorKeeper(holder, actuator, clock, outbox.put, gate.gate_id)
    holder.on_new.append(keeper.apply)
    local.on_change = keeper.apply
    keeper.apply()  # a gate starting in free passage or fire opens at once
    frames = FrameTap()  # a frame an administrator asks goes out on the next tick
    options = settings.snapshots  # the crop's size and quality; the server says whether
    snapshots = EdgeSnapshots(
        holder.upstream,
        LoopBoxes(loop),
        frames,
        options.max_side_px,
        options.jpeg_quality,
        outbox,
    )
    ticks = (
        monitor.tick,
        keeper.apply,
        lambda: frames.answer(holder.upstream),
        snapshots.send_due,  # the crops of refusals whose events went out
    )
    sync = SyncThread(holder, outbox, gate.sync_interval_s, ticks=ticks)
    holder.on_push.append(sync.poke)
    closers = (
        [upstream_close] if (upstream_close := getattr(holder.upstream, "close", None)) else []
    )
    if gate.fire_mqtt:
        kind = "lift" if target.is_lift else "door"
        topics = fire_topics(gate.mqtt_prefix, gate.mqtt_site, kind, target.id)
        changed = fire_event_recorder(outbox.put, clock, gate.gate_id, door_id)
        fire = MqttFireInput(gate.mqtt_host, gate.mqtt_port, topics, local, changed)
        closers.append(fire.close)
    if bus is not None:
        attach_osdp(bus, settings, loop, (monitor, local, outbox, clock), door_id)
        closers.append(bus.close)
    follower = mode_follower(holder, gate.gate_id)
    return RunningGate(
        loop, holder, outbox, actuator, sync, closers, frames, follower, after_outcome=snapshots
    )
