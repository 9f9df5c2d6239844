"""Gates over HTTP: sealed snapshots, idempotent events, the HttpUpstream adapter, and the
server's own pipeline (typed credentials, remote unlock) on a simulated door."""

from __future__ import annotations

import uuid
from datetime import time
from pathlib import Path

import pytest

from api_site import Site
from brokers import free_port
from facegate.domain.access import TimeWindow
from facegate.domain.accounts import GateKind
from facegate.domain.errors import UpstreamUnavailableError
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.domain.people import ConsentMethod, ConsentPurpose
from facegate.domain.policy import FaceEvidence, Presentation, SiteMode, decide
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.actuators import SimulatedDoor
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox, event_to_json
from facegate.gate.server_side import ActuatorOpener, ActuatorPool, PipelineDecider
from facegate.gate.snapshot_wire import gate_wire_key, snapshot_from_wire
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import accounts, credentials, places
from facegate.services.consent import grant_consent
from facegate.services.enrollment import enroll
from facegate.vision.engine import FaceEngine
from facegate.vision.images import ImageLimits
from fakes import FakeDescriber, unit_descriptor

ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))
MODEL = "fake-model"


def ann_at_door(site: Site) -> str:
    door = places.add_door(
        site.context, "North", DoorKind.ENTRANCE, CredentialMode.ANY_OF, list(CredentialKind)
    ).id
    ann = site.resident_id
    grant_consent(site.context, ann, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    describer = FakeDescriber()
    enroll(site.context, site.deps.sealer(), lambda: describer, ann, [Path("7.jpg")])
    credentials.add_card(site.context, ann, "CARD-1234")
    places.add_access_rule(site.context, [ALL_DAY], person_id=ann, door_ids=[door])
    return door


def gate_key(site: Site, gate_id: str) -> str:
    """An edge gate's device key for door ``gate_id`` (the gate is named by its door)."""
    return accounts.issue_device_key(
        site.context, gate_id, "test", GateKind.EDGE, gate_id=gate_id
    ).secret


def other_door(site: Site) -> str:
    kinds = [CredentialKind.FACE, CredentialKind.CARD]
    return places.add_door(
        site.context, "South", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds
    ).id


def upstream_of(site: Site, gate_id: str, secret: str) -> HttpUpstream:
    return HttpUpstream("", gate_id, secret, MODEL, 5.0, client=site.client())


def test_snapshot_over_http_decides_like_the_site(site: Site) -> None:
    door = ann_at_door(site)
    upstream = upstream_of(site, door, gate_key(site, door))
    snapshot = upstream.fetch_snapshot(door, door)
    assert snapshot.target.id == door
    assert snapshot.access.cards == {"CARD-1234": site.resident_id}
    probe = Presentation(face=FaceEvidence(descriptor=unit_descriptor(7)))
    decision = decide(probe, snapshot.target, snapshot.access, site.deps.clock.now())
    assert (decision.reason, decision.person_id) == (Reason.GRANTED, site.resident_id)


def test_snapshot_body_is_sealed_for_that_gate_only(site: Site) -> None:
    door = ann_at_door(site)
    secret = gate_key(site, door)
    client = site.client()
    answer = client.get(
        f"/api/v1/gates/{door}/snapshot?target={door}&model={MODEL}",
        headers={"X-Device-Key": secret},
    )
    assert answer.status_code == 200, answer.text
    assert "CARD-1234" not in answer.text
    assert site.resident_id not in answer.text
    raw = answer.json()
    assert snapshot_from_wire(raw, door, gate_wire_key(secret, door)).target.id == door
    with pytest.raises(ValueError, match="device key"):
        snapshot_from_wire(raw, door, gate_wire_key("another secret", door))
    with pytest.raises(ValueError, match="another-gate"):
        snapshot_from_wire({**raw, "gate_id": "another-gate"}, door, gate_wire_key(secret, door))


def test_snapshot_refuses_other_gates_and_users(site: Site) -> None:
    door = ann_at_door(site)
    other = gate_key(site, other_door(site))
    url = f"/api/v1/gates/{door}/snapshot?target={door}&model={MODEL}"
    assert site.client().get(url, headers={"X-Device-Key": other}).status_code == 403
    assert site.client().get(url).status_code == 401
    assert site.client("admin").get(url).status_code == 403


def event(gate_id: str, door: str, site: Site) -> GateEvent:
    return GateEvent(
        str(uuid.uuid4()),
        gate_id,
        GateEventKind.DECISION,
        door,
        site.deps.clock.now(),
        True,
        Reason.GRANTED,
        site.resident_id,
    )


def test_events_are_stored_once_by_key(site: Site) -> None:
    door = ann_at_door(site)
    upstream = upstream_of(site, door, gate_key(site, door))
    batch = [event(door, door, site) for _ in range(3)]
    assert upstream.deliver(batch) == 3
    assert upstream.deliver(batch) == 0
    assert upstream.deliver([*batch, event(door, door, site)]) == 1
    answer = site.client("auditor").get("/api/v1/events", params={"door_id": door})
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == 4


def test_events_of_another_gate_or_malformed_are_refused(site: Site) -> None:
    door = ann_at_door(site)
    secret = gate_key(site, door)
    client, headers = site.client(), {"X-Device-Key": secret}
    foreign = {"events": [event_to_json(event(other_door(site), door, site))]}
    assert (
        client.post(f"/api/v1/gates/{door}/events", json=foreign, headers=headers).status_code
        == 403
    )
    broken = {"events": [{"key": "k"}]}
    answer = client.post(f"/api/v1/gates/{door}/events", json=broken, headers=headers)
    assert 400 <= answer.status_code < 500
    assert answer.status_code != 403


def test_outbox_over_http_keeps_events_while_the_server_is_down(site: Site, tmp_path: Path) -> None:
    door = ann_at_door(site)
    secret = gate_key(site, door)
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    outbox.put(event(door, door, site))
    down = HttpUpstream(f"http://127.0.0.1:{free_port()}", door, secret, MODEL, 1.0)
    with pytest.raises(UpstreamUnavailableError):
        down.fetch_snapshot(door, door)
    assert outbox.flush(down) == 0
    assert outbox.pending_count() == 1
    assert outbox.flush(upstream_of(site, door, secret)) == 1
    assert outbox.pending_count() == 0


class NoEngine:
    def __call__(self) -> FaceEngine:
        raise AssertionError("a typed credential must not load the face engine")


def wire(site: Site, tmp_path: Path, door: SimulatedDoor) -> None:
    upstream = StoreUpstream(
        lambda: site.deps.store,
        site.deps.sealer(),
        site.deps.clock,
        MODEL,
        MatchPolicy(0.57, 0.0),
        SiteMode.NORMAL,
    )
    pool = ActuatorPool(lambda target: door, upstream)
    options = LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0)
    outbox = SqliteOutbox(tmp_path / "server-outbox.db")
    site.deps.decider = PipelineDecider(
        NoEngine(), pool, outbox, lambda: None, site.deps.clock, options, ImageLimits()
    )
    site.deps.opener = ActuatorOpener(pool, 3.0)


def test_typed_card_opens_through_the_pipeline_and_is_recorded(site: Site, tmp_path: Path) -> None:
    door_id = ann_at_door(site)
    door = SimulatedDoor()
    wire(site, tmp_path, door)
    assert site.deps.decider is not None
    granted = site.deps.decider.decide_credential(door_id, "card", "CARD-1234")
    refused = site.deps.decider.decide_credential(door_id, "card", "CARD-9999")
    assert (granted.granted, granted.reason) == (True, "granted")
    assert (refused.granted, refused.reason) == (False, "unknown_credential")
    assert [c.action for c in door.commands] == ["unlock"]
    events = site.client("auditor").get("/api/v1/events", params={"door_id": door_id}).json()
    assert sorted(e["reason"] for e in events) == ["granted", "unknown_credential"]


def test_remote_unlock_goes_through_the_actuator_and_is_audited(site: Site, tmp_path: Path) -> None:
    door_id = ann_at_door(site)
    door = SimulatedDoor()
    wire(site, tmp_path, door)
    operator = site.client("operator")
    assert operator.post(f"/api/v1/doors/{door_id}/unlock").status_code == 204
    assert [c.action for c in door.commands] == ["unlock"]
    door.fail = True
    assert operator.post(f"/api/v1/doors/{door_id}/unlock").status_code == 503
    audit = site.client("auditor").get("/api/v1/audit", params={"action": "door.remote_unlock"})
    assert audit.status_code == 200, audit.text
    outcomes = [
        r["details"]["outcome"] for r in audit.json() if r["action"] == "door.remote_unlock"
    ]
    assert sorted(outcomes) == ["failed", "opened"]
