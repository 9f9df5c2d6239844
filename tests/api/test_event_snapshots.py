"""Event snapshots, opt-in per site: a sealed face crop kept with a denied face decision
in the server's pipeline, shown only to the allowed roles (each view audited), purged
with the ``snapshots`` retention class, destroyed with the person on erasure, re-wrapped
on a site key rotation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from api_site import Site, site_upstream
from facegate.bootstrap_server import snapshot_sink
from facegate.config import Settings, SnapshotSettings
from facegate.domain.accounts import AccountRole
from facegate.domain.errors import KeyFileError, NotFoundError
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.retention import RetentionPolicy
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.server_side import ActuatorPool, PipelineDecider
from facegate.services import event_snapshots, places, retention, rights, site_admin
from facegate.services.event_snapshots import SnapshotTaken
from facegate.store.crypto import AesGcmSealer, generate_key
from facegate.store.schema import SnapshotRow
from facegate.vision.images import ImageLimits
from fakes import FakeDoor, FakeFaceEngine, fake_frame

JPEG_START = b"\xff\xd8\xff"


def _pipeline(site: Site, tmp_path: Path, enabled: bool) -> tuple[PipelineDecider, str]:
    site.deps.settings = Settings(
        server=site.deps.settings.server, snapshots=SnapshotSettings(enabled=enabled)
    )
    door = places.add_door(
        site.context,
        "Lobby",
        DoorKind.ENTRANCE,
        CredentialMode.ANY_OF,
        [CredentialKind.FACE, CredentialKind.CARD],
    ).id
    upstream = site_upstream(site)
    decider = PipelineDecider(
        FakeFaceEngine,
        ActuatorPool(lambda target: FakeDoor(), upstream),
        SqliteOutbox(tmp_path / "server-outbox.db"),
        lambda: None,
        site.deps.clock,
        LoopOptions("server", 3.0, 0.6, LivenessSchedule(), 10.0),
        ImageLimits(),
        snapshots=snapshot_sink(site.deps),
    )
    return decider, door


def _deny_a_stranger(decider: PipelineDecider, door: str) -> None:
    for index in range(30):
        answer = decider.decide_frame(door, fake_frame(index, person=9).image)
        if not answer.pending:
            assert answer.reason == "unknown_face"
            return
    pytest.fail("the stranger was never decided")


def _rows(site: Site) -> list[SnapshotRow]:
    with site.deps.store.engine.connect() as connection:  # type: ignore[attr-defined]
        return list(connection.execute(select(SnapshotRow)).all())  # type: ignore[arg-type]


def test_a_denied_face_is_kept_sealed_and_shown_only_to_allowed_roles(
    site: Site, tmp_path: Path
) -> None:
    decider, door = _pipeline(site, tmp_path, enabled=True)
    _deny_a_stranger(decider, door)
    events = site.client("admin").get("/api/v1/events").json()
    (event,) = [e for e in events if e["reason"] == "unknown_face"]
    (row,) = _rows(site)
    assert row.event_id == event["id"]
    assert row.person_id is None
    assert JPEG_START not in row.sealed  # no image in the clear
    admin = site.client("admin")
    shown = admin.get(f"/api/v1/events/{event['id']}/snapshot")
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.headers["cache-control"] == "no-store"
    crop = Image.open(io.BytesIO(shown.content))
    assert crop.size == (120, 120)  # the fake face box, 80 px, with a 25 % margin
    for role in ("operator", "auditor", "ann"):
        refused = site.client(role).get(f"/api/v1/events/{event['id']}/snapshot")
        assert refused.status_code == 403, role
    assert admin.get("/api/v1/events/nope/snapshot").status_code == 404
    records = site.client("auditor").get("/api/v1/audit", params={"limit": 1000}).json()
    views = [r for r in records if r["action"] == "snapshot.view"]
    assert [v["details"]["event_id"] for v in views] == [event["id"]]


def test_no_snapshot_is_kept_unless_the_site_turns_them_on(site: Site, tmp_path: Path) -> None:
    decider, door = _pipeline(site, tmp_path, enabled=False)
    assert decider.snapshots is None
    _deny_a_stranger(decider, door)
    assert _rows(site) == []


def test_snapshots_are_purged_with_their_retention_class(site: Site, tmp_path: Path) -> None:
    decider, door = _pipeline(site, tmp_path, enabled=True)
    _deny_a_stranger(decider, door)
    policy = RetentionPolicy(snapshots_days=7)
    site.deps.clock.advance(days=6)  # type: ignore[attr-defined]
    assert retention.purge(site.context, policy).counts["snapshots"] == 0
    site.deps.clock.advance(days=2)  # type: ignore[attr-defined]
    assert retention.purge(site.context, policy).counts["snapshots"] == 1
    assert _rows(site) == []


def test_a_named_persons_snapshot_dies_with_them_even_in_a_backup(site: Site) -> None:
    sealer = site.deps.sealer()
    with site.deps.store.unit_of_work() as uow:
        uow.keys.put(sealer.new_data_key(site.resident_id))
        uow.commit()
    taken = SnapshotTaken("event-1", "door-1", site.resident_id, "not_allowed_here", b"jpeg")
    event_snapshots.keep_snapshot(site.context, sealer, taken)
    assert len(_rows(site)) == 1
    with site.deps.store.unit_of_work() as uow:
        found = uow.snapshots.for_event("event-1")
        person_key = uow.keys.get(site.resident_id)
    assert found is not None
    record, backup = found  # a copy, as a backup would hold it
    assert backup.on_person_key
    assert sealer.open_snapshot(record.id, backup, person_key) == b"jpeg"
    erased = rights.erase_person(site.context, site.resident_id)
    assert erased.counts["snapshots"] == 1
    assert _rows(site) == []
    with site.deps.store.unit_of_work() as uow:
        assert uow.keys.get(site.resident_id) is None  # the key is gone, so is every copy
    with pytest.raises(KeyFileError):
        sealer.open_snapshot(record.id, backup, None)
    with pytest.raises(NotFoundError):
        event_snapshots.view_snapshot(
            site.context, sealer, "event-1", AccountRole.ADMIN, ("admin",)
        )


def test_a_site_key_rotation_rewraps_snapshot_keys(site: Site) -> None:
    sealer = site.deps.sealer()
    taken = SnapshotTaken("event-2", "door-1", None, "unknown_face", b"crop")
    event_snapshots.keep_snapshot(site.context, sealer, taken)
    new_key = generate_key()
    site_admin.rotate_site_key(site.context, sealer, new_key)
    _, image = event_snapshots.view_snapshot(
        site.context, AesGcmSealer(new_key), "event-2", AccountRole.ADMIN, ("admin",)
    )
    assert image == b"crop"
    with pytest.raises(KeyFileError):
        event_snapshots.view_snapshot(
            site.context, sealer, "event-2", AccountRole.ADMIN, ("admin",)
        )
