"""Gates as records (F1), plausible gate events (F7) and gate health on poll, over HTTP.

A device key is bound to a gate registered for one door: its snapshot is that door's,
holding cards and PINs of the people allowed there only; a kiosk key reads nothing; a
gate's events must name its door, be dated near the server's clock, and count a pass's
use only where and when the pass was valid.
"""

from __future__ import annotations

import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta
from pathlib import Path

import httpx
import pytest

from api_site import Site
from facegate.api.routes import gates as gate_routes
from facegate.domain.access import TimeWindow
from facegate.domain.accounts import GateKind
from facegate.domain.gate import GateEvent, GateEventKind, GateReport
from facegate.domain.people import ConsentMethod, ConsentPurpose, Role
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.contact import ContactMonitor
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.outbox import event_to_json
from facegate.gate.runner import SnapshotHolder
from facegate.gate.snapshot_wire import gate_wire_key, snapshot_from_wire
from facegate.services import accounts, credentials, people, places
from facegate.services.consent import grant_consent
from facegate.services.enrollment import enroll
from facegate.services.gate_health import BOARD, silent_gates
from fakes import FakeDescriber
from support import Hold, wait_for

ALL_DAY = TimeWindow(frozenset(range(7)), time(0), time(23, 59, 59))
MODEL = "fake-model"


def door(site: Site, name: str) -> str:
    kinds = list(CredentialKind)
    return places.add_door(site.context, name, DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id


def two_doors(site: Site) -> tuple[str, str]:
    """North (Ann's: face, card, PIN) and South (Bo's: card, PIN)."""
    north, south = door(site, "North"), door(site, "South")
    ann, bo = site.resident_id, site.other_id
    grant_consent(site.context, ann, ConsentPurpose.FACE_ACCESS, "v1", ConsentMethod.WRITTEN)
    enroll(site.context, site.deps.sealer(), FakeDescriber, ann, [Path("7.jpg")])
    credentials.add_card(site.context, ann, "CARD-ANN")
    credentials.set_pin(site.context, ann, "482915")
    credentials.add_card(site.context, bo, "CARD-BO")
    credentials.set_pin(site.context, bo, "731904")
    places.add_access_rule(site.context, [ALL_DAY], person_id=ann, door_ids=[north])
    places.add_access_rule(site.context, [ALL_DAY], person_id=bo, door_ids=[south])
    return north, south


def edge_key(site: Site, target: str, gate_id: str) -> str:
    return accounts.issue_device_key(site.context, target, "t", GateKind.EDGE, gate_id).secret


def snapshot_url(gate_id: str, target: str | None = None) -> str:
    query = f"model={MODEL}" + ("" if target is None else f"&target={target}")
    return f"/api/v1/gates/{gate_id}/snapshot?{query}"


def test_door_a_key_cannot_read_door_b_snapshot(site: Site) -> None:
    north, south = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    headers = {"X-Device-Key": secret}
    client = site.client()
    stolen = client.get(snapshot_url("gate-north", south), headers=headers)
    assert stolen.status_code == 403, stolen.text
    own = client.get(snapshot_url("gate-north"), headers=headers)
    assert own.status_code == 200, own.text
    snapshot = snapshot_from_wire(own.json(), "gate-north", gate_wire_key(secret, "gate-north"))
    assert snapshot.target.id == north


def test_snapshot_holds_cards_and_pins_only_of_people_allowed_there(site: Site) -> None:
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    upstream = HttpUpstream("", "gate-north", secret, MODEL, 5.0, client=site.client())
    access = upstream.fetch_snapshot("gate-north", north).access
    assert access.cards == {"CARD-ANN": site.resident_id}
    assert set(access.pins) == {site.resident_id}
    assert all(north in rule.door_ids for rule in access.rules)


def test_a_role_rule_lets_that_role_s_cards_in(site: Site) -> None:
    north, _ = two_doors(site)
    staff = people.add_person(site.context, "Cy Staff", Role.STAFF).id
    credentials.add_card(site.context, staff, "CARD-STAFF")
    places.add_access_rule(site.context, [ALL_DAY], role=Role.STAFF, door_ids=[north])
    secret = edge_key(site, north, "gate-north")
    upstream = HttpUpstream("", "gate-north", secret, MODEL, 5.0, client=site.client())
    assert set(upstream.fetch_snapshot("gate-north", north).access.cards) == {
        "CARD-ANN",
        "CARD-STAFF",
    }


def test_a_kiosk_key_gets_no_snapshot_and_posts_no_gate_events(site: Site) -> None:
    north, _ = two_doors(site)
    issued = site.client("admin").post("/api/v1/devices/keys", json={"gate_id": north})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert (body["kind"], body["target_id"]) == ("kiosk", north)
    headers = {"X-Device-Key": body["secret"]}
    client = site.client()
    assert client.get(snapshot_url(body["gate_id"]), headers=headers).status_code == 403
    assert client.get(snapshot_url(north), headers=headers).status_code == 403
    batch = {"events": []}
    answer = client.post(f"/api/v1/gates/{body['gate_id']}/events", json=batch, headers=headers)
    assert answer.status_code == 403


def test_an_edge_key_is_issued_over_the_api_for_a_named_gate(site: Site) -> None:
    north, south = two_doors(site)
    admin = site.client("admin")
    body = {"target_id": north, "kind": "edge", "gate_id": "lobby-1"}
    first = admin.post("/api/v1/devices/keys", json=body)
    assert first.status_code == 201, first.text
    assert (first.json()["gate_id"], first.json()["kind"]) == ("lobby-1", "edge")
    assert admin.post("/api/v1/devices/keys", json=body).status_code == 201  # a second key
    moved = admin.post("/api/v1/devices/keys", json={**body, "target_id": south})
    assert moved.status_code == 409
    assert admin.post("/api/v1/devices/keys", json={"label": "x"}).status_code == 422


def event(gate_id: str, door_id: str, site: Site, **changes: object) -> GateEvent:
    fields: dict[str, object] = {
        "key": str(uuid.uuid4()),
        "gate_id": gate_id,
        "kind": GateEventKind.DECISION,
        "door_id": door_id,
        "occurred_at": site.deps.clock.now(),
        "granted": True,
        "reason": Reason.GRANTED,
        "person_id": site.resident_id,
    }
    fields.update(changes)
    return GateEvent(**fields)  # type: ignore[arg-type]


def post(site: Site, secret: str, gate_id: str, *events: GateEvent) -> tuple[int, str]:
    body = {"events": [event_to_json(e) for e in events]}
    answer = site.client().post(
        f"/api/v1/gates/{gate_id}/events", json=body, headers={"X-Device-Key": secret}
    )
    return answer.status_code, answer.text


def stored(site: Site, door_id: str) -> list[dict[str, object]]:
    answer = site.client("auditor").get("/api/v1/events", params={"door_id": door_id})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, object]] = answer.json()
    return found


def test_a_gate_cannot_post_another_door_s_events(site: Site) -> None:
    north, south = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    status, _ = post(site, secret, "gate-north", event("gate-north", south, site))
    assert status == 403
    assert stored(site, south) == []


def test_events_dated_far_from_the_server_clock_are_refused(site: Site) -> None:
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    now = site.deps.clock.now()
    old = event("gate-north", north, site, occurred_at=now - timedelta(days=31))
    ahead = event("gate-north", north, site, occurred_at=now + timedelta(minutes=6))
    good = event("gate-north", north, site, occurred_at=now - timedelta(days=2))
    status, text = post(site, secret, "gate-north", old, ahead, good)
    assert status == 200, text
    assert [e["id"] for e in stored(site, north)] == [good.key]
    assert post(site, secret, "gate-north", old)[0] == 200  # receipted: the outbox lets go
    audit = site.client("auditor").get("/api/v1/audit", params={"action": "gate.event_refused"})
    refused = [r for r in audit.json() if r["action"] == "gate.event_refused"]
    assert sorted(r["details"]["why"] for r in refused) == ["in_the_future", "too_old"]


def test_a_long_note_is_refused(site: Site) -> None:
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    alarm = event(
        "gate-north",
        north,
        site,
        kind=GateEventKind.DOOR_HELD_OPEN,
        granted=False,
        reason=None,
        note="x" * 5000,
    )
    assert post(site, secret, "gate-north", alarm)[0] == 422


def test_a_pass_use_counts_only_while_the_pass_is_valid_and_once_per_key(site: Site) -> None:
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    issued = credentials.create_pass(
        site.context, site.resident_id, "Guest", timedelta(hours=2), max_uses=3
    )
    pass_id = issued.visitor_pass.id
    now = site.deps.clock.now()
    before = event("gate-north", north, site, person_id=None, pass_id=pass_id,
                   occurred_at=now - timedelta(days=3))  # fmt: skip
    use = event("gate-north", north, site, person_id=None, pass_id=pass_id)
    assert post(site, secret, "gate-north", before, use, use)[0] == 200
    assert post(site, secret, "gate-north", use)[0] == 200
    with site.deps.store.unit_of_work() as uow:
        assert uow.passes.get(pass_id).uses == 1


def test_gates_report_their_health_when_they_poll(site: Site) -> None:
    BOARD.clear()
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    edge_key(site, north, "gate-quiet")
    upstream = HttpUpstream("", "gate-north", secret, MODEL, 5.0, client=site.client())
    holder = SnapshotHolder(upstream, "gate-north", north)
    holder.probes.backlog = lambda: 4
    holder.probes.camera = lambda: "ok"
    holder.probes.liveness = lambda: "motion"
    contact = ContactMonitor(site.deps.clock, 30.0, lambda kind: None)
    holder.probes.door = lambda: contact.state
    assert holder.refresh()
    first = {g["id"]: g for g in site.client().get("/api/v1/health").json()["gates"]}
    assert first["gate-north"]["door"] == "unknown"  # no contact report yet
    contact.contact("open")
    assert holder.refresh()  # the second poll reports the version it holds
    health = site.client().get("/api/v1/health").json()
    gates = {g["id"]: g for g in health["gates"]}
    north_gate = gates["gate-north"]
    assert north_gate["target"] == north
    assert north_gate["version"] == holder().version
    assert (north_gate["backlog"], north_gate["camera"]) == (4, "ok")
    assert (north_gate["liveness"], north_gate["door"]) == ("motion", "open")
    assert north_gate["last_seen"] is not None
    assert gates["gate-quiet"]["last_seen"] is None
    metrics = site.client().get("/api/v1/metrics").text
    assert 'facegate_gate_outbox_backlog{gate="gate-north"' in metrics
    silent = [g.gate_id for g in silent_gates(site.context, 60.0)]
    assert silent == ["gate-quiet"]
    site.deps.clock.advance(seconds=120)
    assert [g.gate_id for g in silent_gates(site.context, 60.0)] == ["gate-north", "gate-quiet"]


def test_a_backlog_no_outbox_holds_is_refused_and_the_metrics_stay_numbers(site: Site) -> None:
    """A poll's backlog of 4,000 digits was kept, and printed in /metrics as it came: a
    value Prometheus cannot read (out of a float's range), so the site's scrape failed."""
    BOARD.clear()
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    url = f"{snapshot_url('gate-north')}&backlog={'9' * 4000}"
    answer = site.client().get(url, headers={"X-Device-Key": secret})
    assert answer.status_code == 422
    metrics = site.client().get("/api/v1/metrics").text
    values = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line[:1] != "#"]
    assert all(math.isfinite(value) for value in values)


def test_a_gate_gets_one_whole_snapshot_built_at_a_time(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gate asking again and again, side by side, without naming a version, had a whole
    snapshot built and sealed for each ask (62 MB each at 25,000 residents, docs/site-bench.md)."""
    north, south = two_doors(site)
    keys = {"gate-north": edge_key(site, north, "gate-north")}
    keys["gate-south"] = edge_key(site, south, "gate-south")
    hold, built = Hold(10.0), gate_routes.build_snapshot

    def first_held(*args: object, **kwargs: object) -> object:
        if hold.held == 0 and not hold.release.is_set():
            hold()
        return built(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gate_routes, "build_snapshot", first_held)

    def ask(gate_id: str) -> httpx.Response:
        headers = {"X-Device-Key": keys[gate_id]}
        return site.client().get(snapshot_url(gate_id), headers=headers)

    with ThreadPoolExecutor(1) as asker:
        first = asker.submit(ask, "gate-north")
        try:
            assert wait_for(lambda: hold.held == 1), "the first build was not held"
            again, other = ask("gate-north"), ask("gate-south")
        finally:
            hold.release.set()
        assert first.result(30.0).status_code == 200
    assert again.status_code == 503
    assert again.headers["Retry-After"] == "1"
    assert other.status_code == 200  # another gate is not held up
    assert ask("gate-north").status_code == 200  # nor this one once its build ended


def test_an_unchanged_snapshot_answers_304_and_is_audited_once(site: Site) -> None:
    north, _ = two_doors(site)
    secret = edge_key(site, north, "gate-north")
    upstream = HttpUpstream("", "gate-north", secret, MODEL, 5.0, client=site.client())
    first = upstream.poll_snapshot("gate-north", north, None, GateReport())
    assert first is not None
    for _ in range(5):
        assert upstream.poll_snapshot("gate-north", north, first.version) is None
    credentials.add_card(site.context, site.resident_id, "CARD-ANN-2")
    changed = upstream.poll_snapshot("gate-north", north, first.version)
    assert changed is not None
    assert changed.version != first.version
    assert "CARD-ANN-2" in changed.access.cards
    audit = site.client("auditor").get("/api/v1/audit", params={"action": "gate.snapshot"})
    assert [r["details"]["gate_id"] for r in audit.json() if r["action"] == "gate.snapshot"] == [
        "gate-north",
        "gate-north",
    ]


@pytest.fixture(autouse=True)
def _fresh_board() -> None:
    BOARD.clear()
