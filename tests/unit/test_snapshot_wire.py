"""The snapshot wire format: compact (float32 matrix), exact, sealed, old formats refused."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.impostors import ImpostorCurve
from facegate.domain.matching import DESCRIPTOR_SIZE, Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind, DoorLiveness
from facegate.gate.snapshot_file import SnapshotFile, SnapshotFileError
from facegate.gate.snapshot_wire import (
    WIRE_FORMAT,
    WireFormatError,
    gate_wire_key,
    snapshot_from_wire,
    snapshot_to_wire,
)
from fakes import FakeClock

KEY = gate_wire_key("device-secret", "gate-1")
PEOPLE, PER_PERSON = 2000, 3
TEMPLATES = PEOPLE * PER_PERSON


def big_snapshot(gallery: Gallery) -> GateSnapshot:
    """A snapshot for door ``d1`` whose access data holds ``gallery``."""
    people = {pid: PersonAccess(Role.RESIDENT) for pid in gallery.person_ids()}
    access = AccessData(SiteMode.NORMAL, people, gallery, MatchPolicy(0.57, 0.06))
    target = Target("d1", frozenset({CredentialKind.FACE}))
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    return GateSnapshot(SNAPSHOT_FORMAT, "7.abc", now, "site", "model", target, access)


def synthetic_gallery(people: int = PEOPLE, per: int = PER_PERSON, seed: int = 0) -> Gallery:
    """``people`` x ``per`` float32 descriptors, with awkward values among them."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((people * per, DESCRIPTOR_SIZE)).astype(np.float32)
    rows[0, :4] = [np.float32(1e-45), np.float32(-0.0), np.float32(3.4e38), np.nextafter(1, 2)]
    gallery = Gallery()
    order = rng.permutation(people * per)  # a person's rows need not be together
    for index in order:
        gallery.add(f"person-{index % people:05d}", rows[index])
    return gallery


def test_a_6000_template_gallery_round_trips_bit_for_bit_in_a_compact_body() -> None:
    gallery = synthetic_gallery()
    wire = snapshot_to_wire(big_snapshot(gallery), "gate-1", KEY)
    sealed = base64.b64decode(wire["sealed"])
    # 4 bytes a value (+ the ids); wire format 1 took 22 MB here (a JSON float each).
    assert len(sealed) < 4 * DESCRIPTOR_SIZE * TEMPLATES * 1.5
    assert len(json.dumps(wire)) < 4 * DESCRIPTOR_SIZE * TEMPLATES * 1.5 * 4 / 3 + 1000
    back = snapshot_from_wire(json.loads(json.dumps(wire)), "gate-1", KEY)
    sent_rows, got_rows = gallery.rows(), back.access.gallery.rows()
    assert [p for p, _ in got_rows] == [p for p, _ in sent_rows]
    sent = np.stack([r for _, r in sent_rows])
    got = np.stack([r for _, r in got_rows])
    assert got.dtype == np.float32
    assert np.array_equal(sent.view(np.uint32), got.view(np.uint32))  # exact, -0.0 too
    assert back.access.people == big_snapshot(gallery).access.people
    assert back.access.match == MatchPolicy(0.57, 0.06)


def test_decisions_are_the_same_after_the_wire() -> None:
    gallery = synthetic_gallery(people=300)
    back = snapshot_from_wire(snapshot_to_wire(big_snapshot(gallery), "g", KEY), "g", KEY)
    rng = np.random.default_rng(1)
    for person in rng.choice(gallery.person_ids(), 20):
        rows = [r for p, r in gallery.rows() if p == person]
        probe = rows[0] + rng.normal(0, 0.01, DESCRIPTOR_SIZE).astype(np.float32)
        assert back.access.gallery.identify(probe, 0.57, 0.06) == gallery.identify(
            probe, 0.57, 0.06
        )


def test_an_empty_gallery_round_trips() -> None:
    back = snapshot_from_wire(snapshot_to_wire(big_snapshot(Gallery()), "g", KEY), "g", KEY)
    assert len(back.access.gallery) == 0


def test_the_doors_liveness_mode_crosses_the_wire() -> None:
    snapshot = big_snapshot(Gallery())
    challenged = replace(snapshot, target=replace(snapshot.target, liveness=DoorLiveness.CHALLENGE))
    back = snapshot_from_wire(snapshot_to_wire(challenged, "g", KEY), "g", KEY)
    assert back.target.liveness is DoorLiveness.CHALLENGE
    plain = snapshot_from_wire(snapshot_to_wire(snapshot, "g", KEY), "g", KEY)
    assert plain.target.liveness is DoorLiveness.DEFAULT


def test_a_snapshot_of_another_wire_format_is_refused_by_its_number() -> None:
    wire = snapshot_to_wire(big_snapshot(synthetic_gallery(people=2)), "gate-1", KEY)
    wire["wire_format"] = 1
    with pytest.raises(WireFormatError, match="wire format 1, this gate reads 2"):
        snapshot_from_wire(wire, "gate-1", KEY)
    assert WIRE_FORMAT == 2


def old_wire(snapshot: GateSnapshot, gate_id: str, key: bytes) -> dict[str, object]:
    """``snapshot`` as wire format 1 wrote it (templates as JSON lists of floats)."""
    header = {
        "wire_format": 1,
        "format": snapshot.format,
        "version": snapshot.version,
        "built_at": snapshot.built_at.isoformat(),
        "gate_id": gate_id,
        "target_id": snapshot.target.id,
    }
    rows = [[p, [float(x) for x in r]] for p, r in snapshot.access.gallery.rows()]
    body = {"site_id": snapshot.site_id, "access": {"gallery": rows}}
    aad = json.dumps(header, sort_keys=True).encode()
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(key).encrypt(nonce, json.dumps(body).encode(), aad)
    return {**header, "sealed": base64.b64encode(sealed).decode()}


def test_a_saved_file_of_wire_format_1_is_refused_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.gate-1.bin"
    snapshot = big_snapshot(synthetic_gallery(people=5))
    path.write_text(json.dumps(old_wire(snapshot, "gate-1", KEY)))
    saved = SnapshotFile(path, "gate-1", KEY, FakeClock())
    with pytest.raises(SnapshotFileError) as refused:
        saved.load("d1")
    message = str(refused.value)
    assert "not of file format 2" in message  # the file was the wire's JSON then
    assert "an older facegate wrote it" in message
    assert "fetch a current one" in message
    assert "altered" not in message  # not mistaken for tampering


def test_a_body_whose_gallery_does_not_add_up_is_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        Gallery.from_index(["a"], np.array([0, 1]), np.zeros((2, DESCRIPTOR_SIZE), np.float32))
    with pytest.raises(ValueError, match="labels"):
        Gallery.from_index(["a"], np.array([0]), np.zeros((2, DESCRIPTOR_SIZE), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        Gallery.from_index(["a"], np.array([0]), np.full((1, DESCRIPTOR_SIZE), np.nan, np.float32))


def test_the_sites_1_to_n_target_and_calibrated_curve_cross_the_wire() -> None:
    """An edge gate judges 1:N search as the server does, not by the shipped defaults."""
    curve = ImpostorCurve((0.3, 0.4, 0.5), (0, 2, 40), 90_000, 3, "site calibration")
    match = MatchPolicy(0.55, 0.05, 0.2, curve)
    gallery = synthetic_gallery(people=3)
    people = {pid: PersonAccess(Role.RESIDENT) for pid in gallery.person_ids()}
    snapshot = big_snapshot(gallery)
    access = AccessData(SiteMode.NORMAL, people, gallery, match)
    sent = GateSnapshot(
        *[getattr(snapshot, f) for f in ("format", "version", "built_at")],
        snapshot.site_id,
        snapshot.model_id,
        snapshot.target,
        access,
    )
    back = snapshot_from_wire(snapshot_to_wire(sent, "g", KEY), "g", KEY)
    assert back.access.match == match
    assert back.access.match.identification_threshold(500) == match.identification_threshold(500)


@pytest.mark.parametrize("margin", [0.05, -0.02, None])
def test_the_face_and_card_cohort_rule_crosses_the_wire(margin: float | None) -> None:
    """An edge gate refuses a lent card as the server's kiosk doors do (or not, when off)."""
    snapshot = big_snapshot(synthetic_gallery(people=3))
    match = MatchPolicy(0.57, 0.06, cohort_margin=margin, cohort_share=0.3)
    sent = replace(snapshot, access=replace(snapshot.access, match=match))
    back = snapshot_from_wire(snapshot_to_wire(sent, "g", KEY), "g", KEY)
    assert (back.access.match.cohort_margin, back.access.match.cohort_share) == (margin, 0.3)


def test_a_snapshot_without_the_cohort_rule_keeps_the_gates_default() -> None:
    from facegate.gate.access_wire import match_in as _match_in

    raw = {
        "match": [0.57, 0.06],
        "identification": {
            "max_fpir": 0.01,
            "impostors": MatchPolicy(0.57, 0.06).impostors.to_json(),
        },
    }
    assert _match_in(raw) == MatchPolicy(0.57, 0.06, 0.01)
