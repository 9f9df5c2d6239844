"""The gate assembled by ``build_gate`` on a real site database and a real Mosquitto.

Each test uses its own topic prefix, a test-side controller that acknowledges commands,
and clears the retained messages it caused. The broker-restart test runs its own
Mosquitto on a free port; the shared broker on 1883 is only ever a client's peer.
"""

from __future__ import annotations

import time as clock_time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from brokers import SHARED_BROKER, OwnBroker, Responder, broker_up, unique_prefix
from facegate.bootstrap_gate import build_gate
from facegate.config import GateSettings, Settings
from facegate.domain.access import TimeWindow
from facegate.domain.reasons import Reason
from facegate.gate.loop import Outcome
from facegate.gate.runner import RunningGate, run_source
from facegate.ports import Frame
from facegate.services import credentials, places
from facegate.vision.engine import FaceEngine
from gate_support import (
    ALL_WEEK,
    GateSite,
    ListSource,
    ann_frames,
    gate_engine,
    make_site,
    stranger_frames,
)

__all__ = ["ann_frames", "gate_engine", "stranger_frames"]


@pytest.fixture
def site(
    tmp_path: Path, gate_engine: FaceEngine, shared_data: Path, session_cache_dir: Path
) -> Iterator[GateSite]:
    settings = Settings(data_dir=tmp_path / "site", cache_dir=session_cache_dir)
    built = make_site(settings, gate_engine, shared_data, tmp_path)
    yield built
    built.store.close()


@pytest.fixture
def responder() -> Iterator[Responder]:
    if not broker_up(*SHARED_BROKER):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    controller = Responder(*SHARED_BROKER, unique_prefix())
    controller.wait_connected()
    yield controller
    controller.close()


def mqtt_gate(
    site: GateSite, target: str, prefix: str, port: int, engine: FaceEngine
) -> RunningGate:
    gate = replace(
        GateSettings(), actuator="mqtt", mqtt_prefix=prefix, mqtt_port=port, ack_timeout_s=3.0
    )
    settings = site.settings.model_copy(update={"gate": replace(gate, liveness="none")})
    return build_gate(settings, target, engine=engine)


def run(running: RunningGate, frames: list[Frame]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    run_source(running.loop, ListSource(frames), outcomes.append)
    return outcomes


def test_enrolled_person_opens_the_door_on_the_broker(
    site: GateSite, responder: Responder, gate_engine: FaceEngine, ann_frames: list[Frame]
) -> None:
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    running = mqtt_gate(site, door, responder.prefix, SHARED_BROKER[1], gate_engine)
    outcomes = run(running, ann_frames)
    assert running.stop() == 0
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    topic, body = responder.commands[0]
    assert topic == f"{responder.prefix}/site/door/{door}/set"
    assert body["action"] == "unlock"
    assert len(responder.commands) == 1
    stored = site.events()
    assert [(e.id, e.granted, e.person_id) for e in stored] == [
        (outcomes[0].event_key, True, site.ann)
    ]


def test_stranger_does_not_open(
    site: GateSite, responder: Responder, gate_engine: FaceEngine, stranger_frames: list[Frame]
) -> None:
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    running = mqtt_gate(site, door, responder.prefix, SHARED_BROKER[1], gate_engine)
    outcomes = run(running, stranger_frames)
    running.stop()
    assert {o.decision.reason for o in outcomes} == {Reason.UNKNOWN_FACE}
    assert responder.commands == []
    assert {e.reason for e in site.events()} == {Reason.UNKNOWN_FACE}


def test_person_outside_their_schedule_does_not_open(
    site: GateSite, responder: Responder, gate_engine: FaceEngine, ann_frames: list[Frame]
) -> None:
    door = site.door()
    today = datetime.now(UTC).weekday()
    other_days = TimeWindow(frozenset(set(range(7)) - {today}), time(0), time(23, 59))
    places.add_access_rule(site.context, [other_days], person_id=site.ann, door_ids=[door])
    running = mqtt_gate(site, door, responder.prefix, SHARED_BROKER[1], gate_engine)
    outcomes = run(running, ann_frames)
    running.stop()
    assert [o.decision.reason for o in outcomes] == [Reason.OUTSIDE_SCHEDULE]
    assert responder.commands == []


def test_lift_ride_publishes_only_the_allowed_floors(
    site: GateSite, responder: Responder, gate_engine: FaceEngine, ann_frames: list[Frame]
) -> None:
    building = places.add_building(site.context, "A")
    lift = places.add_lift(site.context, building.id, "Lift A", [0, 1, 2, 3, 4, 5])
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, floors=[0, 3, 9])
    running = mqtt_gate(site, lift.id, responder.prefix, SHARED_BROKER[1], gate_engine)
    outcomes = run(running, ann_frames)
    running.stop()
    assert [o.decision.reason for o in outcomes] == [Reason.GRANTED]
    topic, body = responder.commands[0]
    assert topic == f"{responder.prefix}/site/lift/{lift.id}/set"
    assert (body["action"], body["floors"]) == ("floors", [0, 3])


def test_card_and_face_door_opens_with_both(
    site: GateSite, responder: Responder, gate_engine: FaceEngine, ann_frames: list[Frame]
) -> None:
    from facegate.domain.site import CredentialMode

    door = site.door(CredentialMode.ALL_OF)
    credentials.add_card(site.context, site.ann, "C-77")
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    running = mqtt_gate(site, door, responder.prefix, SHARED_BROKER[1], gate_engine)
    face_only = run(running, ann_frames[:10])
    assert face_only
    assert not any(o.decision.granted for o in face_only)
    running.loop.reset()
    running.loop.present_card("C-77")
    with_card = run(running, ann_frames[10:])
    running.stop()
    assert [o.decision.reason for o in with_card] == [Reason.GRANTED]
    assert len(responder.commands) == 1


def test_broker_restart_mid_run_loses_no_event(
    site: GateSite,
    gate_engine: FaceEngine,
    ann_frames: list[Frame],
    stranger_frames: list[Frame],
    tmp_path: Path,
) -> None:
    broker = OwnBroker(tmp_path)
    broker.start()
    controller = Responder("127.0.0.1", broker.port, unique_prefix())
    door = site.door()
    places.add_access_rule(site.context, [ALL_WEEK], person_id=site.ann, door_ids=[door])
    running = mqtt_gate(site, door, controller.prefix, broker.port, gate_engine)
    try:
        controller.wait_connected()
        outcomes = run(running, ann_frames[:10])
        broker.kill()
        running.loop.reset()
        outcomes += run(running, ann_frames[10:20] + stranger_frames[:5])
        broker.start()
        controller.wait_connected(10.0)
        deadline = clock_time.monotonic() + 10.0
        while not running.actuator.inner.wait_connected(0.2):  # type: ignore[attr-defined]
            assert clock_time.monotonic() < deadline
        running.loop.reset()
        outcomes += run(running, ann_frames[20:])
    finally:
        left = running.stop()
        controller.close()
        broker.kill()
    reasons = [o.decision.reason for o in outcomes]
    assert reasons[0] is Reason.GRANTED
    assert Reason.ACTUATOR_FAILED in reasons
    assert reasons[-1] is Reason.GRANTED
    assert left == 0
    stored = {e.id: e.reason for e in site.events()}
    assert stored == {o.event_key: o.decision.reason for o in outcomes}
    assert len(controller.commands) == 2
