"""The gate's saved snapshot: sealed, atomic, 0600, refused when altered; offline start."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest
from test_gate_sync import POLICY, door_with_ann
from test_snapshot_wire import old_wire

from facegate.domain.errors import BadInputError, DatabaseUnavailableError, UpstreamUnavailableError
from facegate.domain.policy import FaceEvidence, Presentation, decide
from facegate.domain.reasons import Reason
from facegate.gate.runner import SnapshotHolder
from facegate.gate.snapshot_file import (
    FILE_KEY_LABEL,
    MAGIC,
    SnapshotFile,
    SnapshotFileError,
    snapshot_path,
)
from facegate.gate.snapshot_wire import derive_gate_key, gate_wire_key, snapshot_to_wire
from facegate.gate.store_upstream import StoreUpstream
from facegate.services import site_admin
from facegate.services.context import ServiceContext
from fakes import FakeClock, FakeSealer, FakeStore, FakeUnitOfWork, unit_descriptor
from support import file_parts, write_parts

KEY = bytes(range(32))


class SwitchableStore:
    """A store that raises :class:`DatabaseUnavailableError` while ``down`` is set."""

    def __init__(self, inner: FakeStore) -> None:
        self.inner, self.down = inner, False

    def unit_of_work(self) -> FakeUnitOfWork:
        if self.down:
            raise DatabaseUnavailableError("connection refused")
        return self.inner.unit_of_work()

    def reclaim_erased(self) -> None:
        self.inner.reclaim_erased()


class Site:
    """A fake site database behind a real :class:`StoreUpstream` that can go down."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.context = ServiceContext(store=self.store, clock=self.clock, actor="test")
        site_admin.init_site(self.context, "Oak Court", "UTC")
        self.door, self.ann = door_with_ann(self.context)
        self.database = SwitchableStore(self.store)
        self.upstream = StoreUpstream(
            lambda: self.database, FakeSealer(), self.clock, "fake-model", POLICY
        )

    @property
    def down(self) -> bool:
        return self.database.down

    @down.setter
    def down(self, value: bool) -> None:
        self.database.down = value

    def holder(self, folder: Path, gate_id: str = "gate-1", key: bytes = KEY) -> SnapshotHolder:
        saved = SnapshotFile(snapshot_path(folder, gate_id), gate_id, key, self.clock)
        return SnapshotHolder(self.upstream, gate_id, self.door, saved, max_age_s=3600.0)


@pytest.fixture
def site() -> Site:
    return Site()


def test_a_sync_saves_the_snapshot_sealed_with_mode_0600(site: Site, tmp_path: Path) -> None:
    holder = site.holder(tmp_path)
    assert holder.refresh()
    path = tmp_path / "snapshot.gate-1.bin"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw, _ = file_parts(path)
    assert raw["gate_id"] == "gate-1"
    assert raw["version"] == holder().version
    assert b"C-1" not in path.read_bytes()  # cards, PINs and templates are sealed
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_an_unchanged_snapshot_is_rewritten_only_after_a_minute(site: Site, tmp_path: Path) -> None:
    saved = SnapshotFile(tmp_path / "s.bin", "gate-1", KEY, site.clock)
    first = site.upstream.fetch_snapshot("gate-1", site.door)
    assert saved.save(first)
    site.clock.advance(seconds=5)
    assert not saved.save(site.upstream.fetch_snapshot("gate-1", site.door))
    site.clock.advance(seconds=60)
    later = site.upstream.fetch_snapshot("gate-1", site.door)
    assert saved.save(later)
    assert saved.load(site.door).built_at == later.built_at


def test_a_gate_starting_offline_decides_from_the_saved_snapshot(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site.holder(tmp_path).refresh()
    site.down = True
    site.clock.advance(minutes=30)
    restarted = site.holder(tmp_path)
    with caplog.at_level(logging.WARNING, logger="facegate.gate.runner"):
        assert not restarted.refresh()
    assert not restarted.online
    snapshot = restarted()
    probe = Presentation(face=FaceEvidence(descriptor=unit_descriptor(3)))
    decision = decide(probe, snapshot.target, snapshot.access, site.clock.now())
    assert (decision.reason, decision.person_id) == (Reason.GRANTED, site.ann)
    assert snapshot.version[:12] in caplog.text
    assert "1800 s ago" in caplog.text
    assert "STALE" not in caplog.text


def test_an_old_snapshot_is_still_used_but_reported_loudly(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = site.holder(tmp_path)
    holder.refresh()
    site.down = True
    site.clock.advance(hours=2)
    with caplog.at_level(logging.ERROR, logger="facegate.gate.runner"):
        assert not holder.refresh()
        site.clock.advance(minutes=1)
        holder.refresh()  # within the repeat interval: not logged again
        site.clock.advance(minutes=10)
        holder.refresh()
    stale = [r for r in caplog.records if "STALE SNAPSHOT" in r.getMessage()]
    assert [r.levelno for r in stale] == [logging.ERROR, logging.ERROR]
    assert "2.0 h ago" in stale[0].getMessage()
    assert holder().target.id == site.door


def test_an_altered_file_is_refused_with_a_clear_error(site: Site, tmp_path: Path) -> None:
    site.holder(tmp_path).refresh()
    path = tmp_path / "snapshot.gate-1.bin"
    raw, sealed = file_parts(path)
    altered = bytearray(sealed)
    altered[40] ^= 1
    write_parts(path, raw, bytes(altered))
    site.down = True
    with pytest.raises(UpstreamUnavailableError, match=r"cannot start offline.*refused"):
        site.holder(tmp_path).refresh()


def test_a_header_changed_in_clear_is_refused(site: Site, tmp_path: Path) -> None:
    site.holder(tmp_path).refresh()
    path = tmp_path / "snapshot.gate-1.bin"
    raw, sealed = file_parts(path)
    raw["built_at"] = "2099-01-01T00:00:00+00:00"  # made to look fresh
    write_parts(path, raw, sealed)
    with pytest.raises(SnapshotFileError, match="refused"):
        SnapshotFile(path, "gate-1", KEY, site.clock).load(site.door)


def test_another_gates_file_is_refused(site: Site, tmp_path: Path) -> None:
    site.holder(tmp_path, gate_id="gate-2").refresh()
    os.replace(tmp_path / "snapshot.gate-2.bin", tmp_path / "snapshot.gate-1.bin")
    site.down = True
    with pytest.raises(UpstreamUnavailableError, match="not gate gate-1's"):
        site.holder(tmp_path).refresh()


def test_a_file_under_another_key_or_for_another_door_is_refused(
    site: Site, tmp_path: Path
) -> None:
    site.holder(tmp_path).refresh()
    path = tmp_path / "snapshot.gate-1.bin"
    with pytest.raises(SnapshotFileError, match="refused"):
        SnapshotFile(path, "gate-1", bytes(32), site.clock).load(site.door)
    with pytest.raises(SnapshotFileError, match="not elsewhere"):
        SnapshotFile(path, "gate-1", KEY, site.clock).load("elsewhere")


def test_no_file_and_upstream_down_is_a_clear_error(site: Site, tmp_path: Path) -> None:
    site.down = True
    with pytest.raises(UpstreamUnavailableError) as caught:
        site.holder(tmp_path).refresh()
    message = str(caught.value)
    assert "site database unreachable" in message
    assert f"no saved snapshot at {tmp_path / 'snapshot.gate-1.bin'}" in message


def test_garbage_in_the_file_is_refused(site: Site, tmp_path: Path) -> None:
    path = tmp_path / "snapshot.gate-1.bin"
    for junk in (b"\x00\x01", b"[1, 2]", b'{"wire_format": 1}', MAGIC, MAGIC + b"\x05\0\0\0[1]"):
        path.write_bytes(junk)
        with pytest.raises(SnapshotFileError):
            SnapshotFile(path, "gate-1", KEY, site.clock).load(site.door)


def test_a_failed_save_does_not_stop_the_gate(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    saved = SnapshotFile(blocker / "snapshot.gate-1.bin", "gate-1", KEY, site.clock)
    holder = SnapshotHolder(site.upstream, "gate-1", site.door, saved)
    with caplog.at_level(logging.ERROR, logger="facegate.gate.runner"):
        assert holder.refresh()
    assert "snapshot not saved" in caplog.text
    assert holder().target.id == site.door


def test_gate_ids_that_are_not_file_names_are_refused(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(BadInputError):
            snapshot_path(tmp_path, bad)
    assert snapshot_path(tmp_path, "gate-1.north_2") == tmp_path / "snapshot.gate-1.north_2.bin"


def test_the_file_key_labels_differ_from_the_wire_key() -> None:
    secret = "the same secret"
    wire = gate_wire_key(secret, "gate-1")
    assert derive_gate_key(secret.encode(), "gate-1", FILE_KEY_LABEL) != wire
    assert derive_gate_key(secret.encode(), "gate-2", FILE_KEY_LABEL) != derive_gate_key(
        secret.encode(), "gate-1", FILE_KEY_LABEL
    )


@pytest.mark.parametrize("older", ["wire format 1", "the wire's JSON"])
def test_a_file_of_an_older_format_is_refused_then_replaced_by_a_fetch(
    site: Site, tmp_path: Path, older: str
) -> None:
    path = tmp_path / "snapshot.gate-1.bin"
    snapshot = site.upstream.fetch_snapshot("gate-1", site.door)
    wire = old_wire if older == "wire format 1" else snapshot_to_wire  # until 2026-11-28
    path.write_text(json.dumps(wire(snapshot, "gate-1", KEY)))
    site.down = True
    with pytest.raises(UpstreamUnavailableError, match=r"offline.*not of file format 2"):
        site.holder(tmp_path).refresh()
    site.down = False
    holder = site.holder(tmp_path)
    assert holder.refresh()
    assert file_parts(path)[0]["wire_format"] == 2
    assert SnapshotFile(path, "gate-1", KEY, site.clock).load(site.door).version == holder().version


def test_a_file_whose_body_is_of_another_wire_format_is_refused(site: Site, tmp_path: Path) -> None:
    site.holder(tmp_path).refresh()
    path = tmp_path / "snapshot.gate-1.bin"
    raw, sealed = file_parts(path)
    write_parts(path, {**raw, "wire_format": 3}, sealed)
    with pytest.raises(SnapshotFileError, match="another wire format"):
        SnapshotFile(path, "gate-1", KEY, site.clock).load(site.door)


def test_the_file_holds_the_sealed_body_as_bytes_not_base64_in_json(
    site: Site, tmp_path: Path
) -> None:
    # The rewrite after each change was mostly base64 and the outer JSON (~1 s at 25k).
    holder = site.holder(tmp_path)
    holder.refresh()
    path = tmp_path / "snapshot.gate-1.bin"
    _, sealed = file_parts(path)
    on_the_wire = json.dumps(snapshot_to_wire(holder(), "gate-1", KEY))
    assert len(sealed) < 0.8 * len(on_the_wire)  # base64 alone is 4/3
