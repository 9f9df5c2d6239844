"""Event snapshots from an edge gate: the crop of a refused face, sent to the site server.

The gate side is real (HTTP upstream, snapshot holder, frame loop with the fake engine,
frame tap, :class:`EdgeSnapshots`) against the real app; the site turns snapshots on or off.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from api_site import Site
from facegate.config import Settings, SnapshotSettings
from facegate.domain.accounts import GateKind
from facegate.domain.gate import GateEvent, GateEventKind
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.edge_snapshots import EdgeSnapshots, LoopBoxes
from facegate.gate.frame_tap import FrameTap
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.loop import GateLoop, LoopOptions
from facegate.gate.outbox import SqliteOutbox, event_to_json
from facegate.gate.runner import SnapshotHolder
from facegate.http.key_rate import KeyRate
from facegate.services import accounts, places, rights
from facegate.store.schema import SnapshotRow
from fakes import FakeDoor, FakeFaceEngine, FakeTicks, fake_frame

MODEL = "fake-model"


class Edge:
    """An edge gate on ``site``'s door, in this process."""

    def __init__(
        self, site: Site, tmp_path: Path, enabled: bool, now: Callable[[], float] = time.monotonic
    ) -> None:
        site.deps.settings = Settings(
            server=site.deps.settings.server, snapshots=SnapshotSettings(enabled=enabled)
        )
        kinds = [CredentialKind.FACE, CredentialKind.CARD]
        self.door = places.add_door(
            site.context, "Yard", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds
        ).id
        key = accounts.issue_device_key(site.context, self.door, "pole", GateKind.EDGE, "yard-1")
        client = site.client()
        self.upstream = HttpUpstream("", "yard-1", key.secret, MODEL, 5.0, client=client, now=now)
        self.holder = SnapshotHolder(self.upstream, "yard-1", self.door)
        assert self.holder.refresh()
        options = LoopOptions("yard-1", 3.0, 0.6, LivenessSchedule(), 10.0)
        self.outbox = SqliteOutbox(tmp_path / "outbox.db")
        self.loop = GateLoop(
            FakeFaceEngine(), self.holder, FakeDoor(), self.outbox, None, site.deps.clock, options
        )
        self.tap = FrameTap()
        settings = site.deps.settings.snapshots
        self.snapshots = EdgeSnapshots(
            self.upstream,
            LoopBoxes(self.loop),
            self.tap,
            settings.max_side_px,
            settings.jpeg_quality,
            self.outbox,
        )

    def deny_a_stranger(self) -> tuple[str, bool]:
        """Frames of a stranger until refused: the event's key and whether a crop is held."""
        for index in range(40):
            frame = fake_frame(index, person=9)
            self.tap.see(frame)
            for outcome in self.loop.process(frame):
                assert outcome.decision.reason.value == "unknown_face"
                return outcome.event_key, self.snapshots(outcome)
        raise AssertionError("the stranger was never decided")

    def close(self) -> None:
        self.outbox.close()
        self.upstream.close()


def _rows(site: Site) -> list[SnapshotRow]:
    with site.deps.store.engine.connect() as connection:  # type: ignore[attr-defined]
        return list(connection.execute(select(SnapshotRow)).all())  # type: ignore[arg-type]


def test_an_edge_gate_s_refused_face_is_kept_sealed_and_erased_with_the_person(
    site: Site, tmp_path: Path
) -> None:
    edge = Edge(site, tmp_path, enabled=True)
    assert edge.upstream.snapshots_wanted  # the server's poll answer said so
    key, held = edge.deny_a_stranger()
    assert held
    assert edge.outbox.holds(key)
    assert _rows(site) == []
    assert edge.snapshots.send_due() == 1  # a tick of the sync thread: the event, then its crop
    assert not edge.outbox.holds(key)
    assert edge.snapshots.held() == 0
    edge.close()
    (row,) = _rows(site)
    assert (row.event_id, row.door_id, row.reason) == (key, edge.door, "unknown_face")
    assert b"\xff\xd8\xff" not in row.sealed  # sealed at rest, like templates
    shown = site.client("admin").get(f"/api/v1/events/{key}/snapshot")
    assert shown.status_code == 200, shown.text
    assert Image.open(io.BytesIO(shown.content)).size == (120, 120)  # 80 px box + margin
    assert site.client("operator").get(f"/api/v1/events/{key}/snapshot").status_code == 403
    records = site.client("auditor").get("/api/v1/audit", params={"limit": 1000}).json()
    assert [r["details"]["event_id"] for r in records if r["action"] == "snapshot.view"] == [key]


def test_a_crop_waits_with_its_event_while_the_server_asks_the_gate_to_wait(
    site: Site, tmp_path: Path
) -> None:
    clock = FakeTicks()
    site.deps.device_rate = KeyRate(1.0, 2, now=clock)
    edge = Edge(site, tmp_path, enabled=True, now=clock)  # its first snapshot: 9 owed
    key, held = edge.deny_a_stranger()
    assert held
    assert edge.snapshots.send_due() == 0  # 429: the event and its crop wait at the gate
    assert edge.outbox.holds(key)
    assert edge.snapshots.held() == 1
    clock.at += 10.0  # the server's Retry-After: one token, the event's; the crop waits
    assert edge.snapshots.send_due() == 0
    assert not edge.outbox.holds(key)
    assert edge.snapshots.held() == 1
    clock.at += 1.0
    assert edge.snapshots.send_due() == 1
    assert [row.event_id for row in _rows(site)] == [key]
    edge.close()


class Gate:
    """A gate of its own at ``door`` talking to the server directly (posts what it likes)."""

    def __init__(self, site: Site, door: str, gate_id: str) -> None:
        self.site, self.door, self.gate_id = site, door, gate_id
        secret = accounts.issue_device_key(site.context, door, "x", GateKind.EDGE, gate_id).secret
        self.headers = {"X-Device-Key": secret}

    def deliver(self, key: str, reason: Reason, person_id: str | None = None) -> None:
        event = GateEvent(
            key,
            self.gate_id,
            GateEventKind.DECISION,
            self.door,
            self.site.deps.clock.now(),
            reason is Reason.GRANTED,
            reason,
            person_id,
        )
        answer = self.site.client().post(
            f"/api/v1/gates/{self.gate_id}/events",
            json={"events": [event_to_json(event)]},
            headers=self.headers,
        )
        assert answer.status_code == 200, answer.text

    def crop(self, key: str, jpeg: bytes = b"", **claims: str) -> int:
        """Post a crop for event ``key`` (``reason``, ``person``: what the gate says); status."""
        answer = self.site.client().post(
            f"/api/v1/gates/{self.gate_id}/snapshots",
            params={"event": key, **claims},
            content=jpeg or _jpeg((200, 150, 120)),
            headers={**self.headers, "Content-Type": "image/jpeg"},
        )
        return answer.status_code


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    crop = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(crop, format="JPEG")
    return crop.getvalue()


def test_a_named_person_s_edge_snapshot_goes_with_their_erasure(site: Site, tmp_path: Path) -> None:
    edge = Edge(site, tmp_path, enabled=True)
    gate = Gate(site, edge.door, "yard-2")
    gate.deliver("ev-1", Reason.NOT_ALLOWED_HERE, site.resident_id)
    gate.deliver("ev-2", Reason.GRANTED, site.resident_id)
    claims = {"reason": "not_allowed_here", "person": site.resident_id}
    assert gate.crop("ev-1", **claims) == 200
    assert gate.crop("ev-2", reason="granted") == 422  # refusals only
    assert gate.crop("ev-2") == 422  # the event was a grant, whatever the gate says
    assert gate.crop("ev-3", b"GIF89a", **claims) == 422
    assert [r.person_id for r in _rows(site)] == [site.resident_id]
    rights.erase_person(site.context, site.resident_id)
    assert _rows(site) == []
    edge.close()


def test_a_gate_s_crop_is_kept_once_and_only_for_a_refusal_it_delivered(
    site: Site, tmp_path: Path
) -> None:
    edge = Edge(site, tmp_path, enabled=True)
    gate, other = Gate(site, edge.door, "yard-2"), Gate(site, edge.door, "yard-3")
    assert gate.crop("never-delivered", reason="unknown_face") == 404
    other.deliver("theirs", Reason.UNKNOWN_FACE)
    assert gate.crop("theirs") == 404  # another gate's event, even at the same door
    gate.deliver("mine", Reason.NOT_ALLOWED_HERE, site.resident_id)
    assert gate.crop("mine", reason="unknown_face") == 422  # not what the event says
    assert gate.crop("mine", reason="not_allowed_here", person=site.other_id) == 422
    assert _rows(site) == []
    first = _jpeg((200, 150, 120))
    assert gate.crop("mine", first) == 200  # door, person and reason: the stored event's
    assert gate.crop("mine", _jpeg((10, 20, 30))) == 409  # one per event
    assert gate.crop("mine", _jpeg((10, 20, 30)), reason="not_allowed_here") == 409
    (row,) = _rows(site)
    assert (row.event_id, row.door_id, row.person_id, row.reason) == (
        "mine",
        edge.door,
        site.resident_id,
        "not_allowed_here",
    )
    shown = site.client("admin").get("/api/v1/events/mine/snapshot")
    assert shown.status_code == 200
    assert shown.content == first
    edge.close()


def test_no_crop_is_sent_or_taken_unless_the_site_keeps_snapshots(
    site: Site, tmp_path: Path
) -> None:
    edge = Edge(site, tmp_path, enabled=False)
    assert not edge.upstream.snapshots_wanted
    _, held = edge.deny_a_stranger()
    assert not held
    assert edge.snapshots.send_due() == 0
    pushed = site.client().post(
        "/api/v1/gates/yard-1/snapshots",
        params={"event": "e", "reason": "unknown_face"},
        content=b"\xff\xd8\xff\xe0",
        headers={
            "X-Device-Key": edge.upstream._headers["X-Device-Key"],
            "Content-Type": "image/jpeg",
        },
    )
    assert pushed.status_code == 403, pushed.text
    assert _rows(site) == []
    edge.close()
