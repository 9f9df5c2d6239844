"""Real descriptors through the snapshot wire: the gate decides exactly as the server would."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.matching import DESCRIPTOR_SIZE, Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.gate.snapshot_wire import gate_wire_key, snapshot_from_wire, snapshot_to_wire
from facegate.vision.engine import FaceEngine, descriptor_of
from facegate.vision.images import load_image

KEY = gate_wire_key("device-secret", "g")


def big_snapshot(gallery: Gallery) -> GateSnapshot:
    """A snapshot for door ``d1`` whose access data holds ``gallery``."""
    people = {pid: PersonAccess(Role.RESIDENT) for pid in gallery.person_ids()}
    access = AccessData(SiteMode.NORMAL, people, gallery, MatchPolicy(0.57, 0.06))
    target = Target("d1", frozenset({CredentialKind.FACE}))
    now = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
    return GateSnapshot(SNAPSHOT_FORMAT, "7.abc", now, "site", "model", target, access)


def describe(engine: FaceEngine, path: Path) -> np.ndarray | None:
    face = engine.primary_face(load_image(path))
    return None if face is None else descriptor_of(face)


def test_real_descriptors_cross_the_wire_exactly_and_decide_the_same(
    engine: FaceEngine, shared_data: Path
) -> None:
    gallery, probes = Gallery(), []
    for person in sorted((shared_data / "faces" / "lfw10").iterdir()):
        photos = sorted(person.glob("*.jpg"))
        for photo in photos[:3]:
            if (found := describe(engine, photo)) is not None:
                gallery.add(person.name, found)
        probes += [d for p in photos[3:6] if (d := describe(engine, p)) is not None]
    rng = np.random.default_rng(0)  # strangers fill the gallery to 6,000 templates
    filler = rng.standard_normal((6000 - len(gallery), DESCRIPTOR_SIZE)).astype(np.float32)
    filler *= 0.95 / np.linalg.norm(filler, axis=1, keepdims=True)
    for index, row in enumerate(filler):
        gallery.add(f"filler-{index // 3:05d}", row)
    back = snapshot_from_wire(snapshot_to_wire(big_snapshot(gallery), "g", KEY), "g", KEY)
    sent, got = gallery.as_index(), back.access.gallery.as_index()
    assert sent[0] == got[0]
    assert np.array_equal(sent[1], got[1])
    assert np.array_equal(sent[2].view(np.uint32), got[2].view(np.uint32))
    assert len(probes) >= 20
    outcomes = [gallery.identify(p, 0.57, 0.06) for p in probes]
    assert [back.access.gallery.identify(p, 0.57, 0.06) for p in probes] == outcomes
    assert sum(o.matched for o in outcomes) >= len(probes) // 2  # real matches among them
