"""Composition root of the web server (kept apart so CLI commands do not import FastAPI)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from functools import cache

from fastapi import FastAPI

from facegate.app import create_app
from facegate.bootstrap import SystemClock, build_photo_describer, build_sealer, build_store
from facegate.bootstrap_gate import (
    build_actuator,
    build_alarm_service,
    build_gate_engine,
    build_gate_liveness,
    build_pose_reader,
)
from facegate.config import Settings
from facegate.domain.accounts import GateKind
from facegate.domain.errors import ModelUnavailableError
from facegate.domain.faces import Box
from facegate.domain.policy import Decision
from facegate.gate.challenge_desk import ChallengeSetup
from facegate.gate.kiosk_doors import KioskDoorsOpen
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.per_thread import PerThread, PerThreadFaceWork, PerThreadLiveness
from facegate.gate.perception import FaceWork
from facegate.gate.server_side import (
    SERVER_GATE_ID,
    ActuatorOpener,
    ActuatorPool,
    PipelineDecider,
    SnapshotSink,
)
from facegate.gate.store_upstream import StoreUpstream
from facegate.http.deps import ServerDeps
from facegate.http.key_rate import KeyRate
from facegate.http.security import LoginLimiter
from facegate.messaging.webhook import WebhookNotifier
from facegate.ports import GateUpstream, LivenessCheck
from facegate.services.accounts import ensure_admin
from facegate.services.alarm_log import alarm_recorder
from facegate.services.alarms import AlarmFeed, AlarmRelay, SilentGateWatch
from facegate.services.context import ServiceContext
from facegate.services.event_snapshots import SnapshotTaken, snapshot_keeper
from facegate.services.gate_health import silent_gates
from facegate.services.workers import WorkerPool
from facegate.store.passwords import Argon2Hasher
from facegate.vision.crops import face_crop_jpeg
from facegate.vision.images import RgbImage
from facegate.vision.models import DESCRIPTOR_MODEL_ID
from facegate.vision.threads import limit_threads

SILENT_CHECK_S = 15.0
"""How often the server looks for gates gone silent (seconds; at least twice per silence
limit when that is shorter than 30 s)."""


def _admin_from_settings(settings: Settings, deps: ServerDeps) -> None:
    if settings.admin_user and settings.admin_password is not None:
        context = ServiceContext(store=deps.store, clock=deps.clock, actor="bootstrap")
        password = settings.admin_password.get_secret_value()
        ensure_admin(context, deps.hasher, settings.admin_user, password)


def build_server(settings: Settings) -> ServerDeps:
    """Everything ``facegate serve`` runs on; creates the first administrator if asked.

    The administrator comes from ``FACEGATE_ADMIN_USER`` / ``FACEGATE_ADMIN_PASSWORD``
    (never a default). The face engine is built on the first enrollment, not here.

    Raises:
        BadInputError: default secrets outside development, no site yet, weak password.
    """
    settings.server.check_secrets()
    server = settings.server
    # Enrolment runs on the server's thread pool: one describer (dlib models) per thread.
    describer = PerThread(lambda: build_photo_describer(settings, require_quality=True))

    notify = None
    if server.webhook_url:
        notify = WebhookNotifier(server.webhook_url, server.webhook_timeout_s)
    store, clock = build_store(settings), SystemClock()
    record = alarm_recorder(ServiceContext(store=store, clock=clock, actor="alarms"))
    alarms = build_alarm_service(settings, notify, AlarmFeed(), record)
    deps = ServerDeps(
        settings=settings,
        store=store,
        clock=clock,
        hasher=Argon2Hasher(),
        sealer=lambda: build_sealer(settings),
        describer=describer,
        notify=notify,
        limiter=LoginLimiter(server.login_attempts, server.login_window_s),
        alarms=alarms,
        frame_pool=WorkerPool(server.frame_workers, server.busy_retry_after_s),
        device_rate=KeyRate.of(server),
    )
    _admin_from_settings(settings, deps)
    wire_gate_pipeline(deps).start(1.0)  # kiosk doors held open in free passage and fire
    silence_s = settings.gate.silent_after_s
    watch_silent_gates(deps, _silent_gates(deps, silence_s), min(SILENT_CHECK_S, silence_s / 2))
    return deps


def _silent_gates(deps: ServerDeps, after_s: float) -> Callable[[], list[tuple[str, str]]]:
    """Lists ``(gate_id, door_id)`` of the edge gates silent for over ``after_s`` seconds.

    Nothing during the server's first ``after_s`` seconds: a gate is not heard from
    before this process has run as long as a gate may be silent.
    """
    started = time.monotonic()
    context = ServiceContext(store=deps.store, clock=deps.clock, actor="alarms")

    def silent() -> list[tuple[str, str]]:
        if time.monotonic() - started < after_s:
            return []
        return [(g.gate_id, g.target_id) for g in silent_gates(context, after_s)]

    return silent


KIOSK_REFRESH_S = 0.2
"""Most seconds between two checks of the kiosk doors' snapshots in the server (a round
where nothing changed is one transaction of two small reads for every door; a change
reaches the doors within this plus one rebuild, well inside the 2 s asked of every gate)."""


def wire_gate_pipeline(deps: ServerDeps) -> KioskDoorsOpen:
    """Set ``deps.decider`` (kiosk frames, typed credentials) and ``deps.opener``.

    Both act through the doors' actuators as ``settings.gate.actuator`` says; decisions
    go through the server's outbox (``<data-dir>/gate/server-outbox.db``) into the site
    database. The face engine and the liveness check load on the first frame (a missing
    model then answers that frame 503, and the console still works).

    Returns:
        What holds the kiosk doors open in free passage and fire (the caller starts it:
        :func:`build_server` does).
    """
    settings, clock = deps.settings, deps.clock

    # Frames are decided on a pool of threads, and dlib's and TFLite's objects are not
    # thread-safe: each worker thread gets its own engine and liveness check. The compute
    # pools are sized here, before any worker runs (never while one computes).
    limit_threads(settings.gate.threads)
    engines = PerThreadFaceWork(PerThread(lambda: build_gate_engine(settings)))

    def engine() -> FaceWork:
        return engines

    def one_check() -> LivenessCheck:
        check = build_gate_liveness(settings)[0]
        if check is None:
            raise ModelUnavailableError("no liveness check is configured")
        return check

    @cache
    def liveness() -> LivenessCheck | None:
        if settings.gate.liveness == "none":
            return None
        checks = PerThread(one_check)
        # Built here on the first frame's thread: a missing model answers that frame 503.
        return PerThreadLiveness(checks, checks().cue_names)

    model_id = DESCRIPTOR_MODEL_ID
    match, _ = settings.match_policy(model_id)
    store_upstream = StoreUpstream(lambda: deps.store, deps.sealer(), clock, model_id, match)
    upstream: GateUpstream = store_upstream
    if deps.alarms is not None:
        upstream = AlarmRelay(store_upstream, deps.alarms)
    pool = ActuatorPool(lambda target: build_actuator(settings, target, None), upstream)
    gate = settings.gate
    options = LoopOptions(
        SERVER_GATE_ID,
        gate.unlock_duration_s,
        gate.decide_after_s,
        gate.liveness_schedule(),
        gate.card_window_s,
    )
    outbox = SqliteOutbox(settings.data_dir / "gate" / "server-outbox.db")
    deps.decider = PipelineDecider(
        engine,
        pool,
        outbox,
        liveness,
        clock,
        options,
        settings.images,
        refresh_s=min(gate.sync_interval_s, KIOSK_REFRESH_S),
        snapshots=snapshot_sink(deps),
        # Kiosk doors left at "default" get the challenge unless liveness is off.
        challenge=ChallengeSetup(
            PerThread(lambda: build_pose_reader(settings)), by_default=gate.liveness != "none"
        ),
    )
    deps.opener = ActuatorOpener(pool, gate.unlock_duration_s)
    return KioskDoorsOpen(pool, _kiosk_doors(deps), clock, outbox.put)


def _kiosk_doors(deps: ServerDeps) -> Callable[[], list[str]]:
    """Lists the doors and lifts whose registered gates are kiosks (the server drives them)."""

    def doors() -> list[str]:
        with deps.store.unit_of_work() as uow:
            return sorted({g.target_id for g in uow.gates.all() if g.kind is GateKind.KIOSK})

    return doors


def snapshot_sink(deps: ServerDeps) -> SnapshotSink | None:
    """Keeps a sealed face crop of each denied face when the site turned snapshots on.

    ``None`` (none kept) unless ``FACEGATE_SNAPSHOTS__ENABLED=true``.
    """
    options = deps.settings.snapshots
    if not options.enabled:
        return None
    context = ServiceContext(store=deps.store, clock=deps.clock, actor="snapshots")
    keep = snapshot_keeper(context, deps.sealer)

    def sink(door_id: str, pixels: RgbImage, box: Box, decision: Decision, key: str) -> None:
        jpeg = face_crop_jpeg(pixels, box, options.max_side_px, options.jpeg_quality)
        keep(SnapshotTaken(key, door_id, decision.person_id, decision.reason.value, jpeg))

    return sink


def watch_silent_gates(
    deps: ServerDeps,
    silent: Callable[[], Iterable[tuple[str, str]]],
    every_s: float = SILENT_CHECK_S,
) -> threading.Event | None:
    """Raise ``gate_silent`` alarms for the gates ``silent`` lists, checked every ``every_s``.

    ``silent`` lists ``(gate_id, door_id)`` of the gates not heard from for too long (the
    gate-health data). Returns the event that stops the watch (``None``: no alarms).
    """
    if deps.alarms is None:
        return None
    return SilentGateWatch(silent, deps.alarms, deps.clock).start(every_s)


def build_app(settings: Settings) -> FastAPI:
    """The web application for ``settings`` (see :func:`build_server`)."""
    return create_app(build_server(settings))
