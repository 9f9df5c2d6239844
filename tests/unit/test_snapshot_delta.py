"""The snapshot delta on the wire: sealed like a snapshot, bound to its gate and its base;
unchanged access sections left out and checked by digest, the gallery made checked too."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from facegate.domain.gate import SNAPSHOT_FORMAT, GateSnapshot
from facegate.domain.matching import Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import AccessData, PersonAccess, SiteMode, Target
from facegate.domain.site import CredentialKind
from facegate.gate import access_wire, snapshot_delta
from facegate.gate.access_wire import PARTS, SECTIONS, bucket_of
from facegate.gate.snapshot_delta import (
    DELTA_WIRE_FORMAT,
    DeltaRefusedError,
    delta_to_wire,
    open_delta,
)
from facegate.gate.snapshot_sections import Sections, kept_out
from facegate.gate.snapshot_wire import (
    WireFormatError,
    gate_wire_key,
    open_body,
    sealed_of,
    snapshot_from_wire,
    snapshot_to_wire,
)
from fakes import unit_descriptor

KEY = gate_wire_key("device-secret", "gate-1")
NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def snapshot_of(version: str, templates: list[tuple[str, str, int]], card: str) -> GateSnapshot:
    """Door ``d1``'s snapshot at ``version``: ``(template id, person, seed)`` rows, a card."""
    matrix = np.stack([unit_descriptor(seed) for _, _, seed in templates])
    gallery = Gallery.of_rows([p for _, p, _ in templates], matrix, [t for t, _, _ in templates])
    people = {pid: PersonAccess(Role.RESIDENT) for pid in gallery.person_ids()}
    access = AccessData(
        SiteMode.NORMAL, people, gallery, MatchPolicy(0.57, 0.06), cards={card: "ann"}
    )
    target = Target("d1", frozenset({CredentialKind.FACE}))
    return GateSnapshot(SNAPSHOT_FORMAT, version, NOW, "site", "model", target, access)


OLD = snapshot_of("7.abc", [("t1", "ann", 1), ("t2", "bo", 2), ("t3", "bo", 3)], "C1")
NEW = snapshot_of("8.abc", [("t1", "ann", 1), ("t4", "cy", 4)], "C2")  # bo erased, cy enrolled


def held() -> GateSnapshot:
    """The base as a gate holds it: read back from its own whole snapshot."""
    return snapshot_from_wire(snapshot_to_wire(OLD, "gate-1", KEY), "gate-1", KEY)


def old_ids() -> tuple[str, ...]:
    ids = OLD.access.gallery.template_ids()
    assert ids is not None
    return ids


def test_a_whole_snapshot_carries_its_template_ids() -> None:
    back = snapshot_from_wire(snapshot_to_wire(OLD, "gate-1", KEY), "gate-1", KEY)
    assert back.access.gallery.template_ids() == ("t1", "t2", "t3")


def test_a_delta_carries_only_the_change_and_makes_the_new_snapshot() -> None:
    wire = delta_to_wire(NEW, "7.abc", old_ids(), "gate-1", KEY)
    assert (wire["wire_format"], wire["base_version"]) == (DELTA_WIRE_FORMAT, "7.abc")
    header = tuple(k for k in wire if k != "sealed")  # all of it is associated data
    body, tail = open_body(wire, sealed_of(wire), "gate-1", KEY, DELTA_WIRE_FORMAT, header)
    part = body["access"]["gallery"]
    assert (part["ids"], part["removed"], part["total"]) == (["t4"], ["t2", "t3"], 2)
    assert len(tail) == 4 + 4 * 128  # one template's label and values
    applied, _ = open_delta(wire, held(), "gate-1", KEY)
    assert applied.version == "8.abc"
    assert applied.access.cards == {"C2": "ann"}  # the access data comes in full
    assert applied.access.gallery.template_ids() == ("t1", "t4")
    assert applied.access.gallery.person_ids() == ["ann", "cy"]
    new_rows = {p: r.tobytes() for p, r in NEW.access.gallery.rows()}
    assert {p: r.tobytes() for p, r in applied.access.gallery.rows()} == new_rows


def test_a_delta_for_another_base_is_refused() -> None:
    wire = delta_to_wire(NEW, "6.abc", old_ids(), "gate-1", KEY)
    with pytest.raises(DeltaRefusedError, match=r"from version '6\.abc'"):
        open_delta(wire, held(), "gate-1", KEY)
    wire["base_version"] = "7.abc"  # relabelled: the seal names the base it was made for
    with pytest.raises(ValueError, match="does not open"):
        open_delta(wire, held(), "gate-1", KEY)


def test_a_delta_sealed_for_another_gate_or_key_is_refused() -> None:
    wire = delta_to_wire(NEW, "7.abc", old_ids(), "gate-2", gate_wire_key("other", "gate-2"))
    with pytest.raises(ValueError, match="for gate 'gate-2'"):
        open_delta(wire, held(), "gate-1", KEY)
    wire["gate_id"] = "gate-1"
    with pytest.raises(ValueError, match="does not open"):
        open_delta(wire, held(), "gate-1", KEY)


def test_a_delta_of_another_door_or_a_whole_snapshot_as_a_delta_is_refused() -> None:
    other_door = replace(NEW, target=replace(NEW.target, id="d2"))
    wire = delta_to_wire(other_door, "7.abc", old_ids(), "gate-1", KEY)
    with pytest.raises(DeltaRefusedError, match="another door"):
        open_delta(wire, held(), "gate-1", KEY)
    whole = {**snapshot_to_wire(NEW, "gate-1", KEY), "base_version": "7.abc"}
    with pytest.raises(WireFormatError):
        open_delta(whole, held(), "gate-1", KEY)


def test_a_delta_that_does_not_fit_the_gallery_held_is_refused() -> None:
    # The server believed the base held t9 too: the gate does not, and refuses it all.
    wire = delta_to_wire(NEW, "7.abc", (*old_ids(), "t9"), "gate-1", KEY)
    base = held()
    with pytest.raises(ValueError, match="does not hold"):
        open_delta(wire, base, "gate-1", KEY)
    assert base.access.gallery.template_ids() == ("t1", "t2", "t3")


ENROLLED = snapshot_of("8.abc", [("t1", "ann", 1), ("t2", "bo", 2), ("t3", "bo", 3)], "C1")
ENROLLED = replace(  # cy enrolled: a person and a template more, the same cards
    ENROLLED,
    access=replace(
        ENROLLED.access,
        people={**ENROLLED.access.people, "cy": PersonAccess(Role.RESIDENT)},
        gallery=NEW.access.gallery.take([1]).joined(OLD.access.gallery),
    ),
)


def opened(wire: dict[str, object]) -> dict[str, object]:
    header = tuple(k for k in wire if k != "sealed")
    body, _ = open_body(wire, sealed_of(wire), "gate-1", KEY, DELTA_WIRE_FORMAT, header)
    access = body["access"]
    assert isinstance(access, dict)
    return access


CY = f"people/{bucket_of('cy')}"  # the part of the people the enrolment changes


def test_a_delta_leaves_out_the_parts_unchanged_and_the_gate_keeps_its_own() -> None:
    delivered = Sections.of(OLD.access).digests  # what the server remembers of 7.abc
    wire = delta_to_wire(ENROLLED, "7.abc", old_ids(), "gate-1", KEY, delivered)
    access = opened(wire)
    assert set(SECTIONS) & set(access) == {"people"}  # cards, PINs, rules...: not sent
    same_bucket = {p for p in ENROLLED.access.people if f"people/{bucket_of(p)}" == CY}
    assert set(access["people"]) == same_bucket  # type: ignore[arg-type]
    assert access["kept"] == kept_out({p: d for p, d in delivered.items() if p != CY})
    assert len(json.dumps(access["kept"])) < 2000  # 197 parts named in a few hundred bytes
    base = held()
    applied, _ = open_delta(wire, base, "gate-1", KEY)
    assert applied.access.cards is base.access.cards  # its own, checked by digest
    assert applied.access.people == ENROLLED.access.people
    assert set(applied.access.gallery.template_ids() or ()) == {"t1", "t2", "t3", "t4"}


def test_a_delta_keeping_a_part_the_gate_does_not_hold_is_refused() -> None:
    # The server believes 7.abc had the new people and cards (C2), so it leaves them out:
    # the gate holds C1 and bo, the digests differ, and it refuses the delta whole.
    believed = Sections.of(NEW.access).digests
    wire = delta_to_wire(NEW, "7.abc", old_ids(), "gate-1", KEY, believed)
    assert bucket_of("C2") in opened(wire)["kept"]["cards"]["buckets"]  # type: ignore[index]
    with pytest.raises(DeltaRefusedError, match=r"section '(cards|people)' held here is not"):
        open_delta(wire, held(), "gate-1", KEY)


def test_the_digests_of_kept_parts_carry_over_and_a_sent_part_hashes_as_the_servers() -> None:
    delivered = Sections.of(OLD.access).digests
    wire = delta_to_wire(ENROLLED, "7.abc", old_ids(), "gate-1", KEY, delivered)
    _, known = open_delta(wire, held(), "gate-1", KEY)
    assert known.known == {p: d for p, d in delivered.items() if p != CY}  # checked here
    # The part sent, hashed from the gate's merged people, is the server's: the next
    # delta can keep it.
    assert known.of(CY) == Sections.of(ENROLLED.access).digests[CY]
    assert known.of("rules") == delivered["rules"]


def test_a_delta_that_makes_another_gallery_than_the_servers_is_refused() -> None:
    # The gate's t1 holds other values than the server's (same ids, same count): only the
    # digest of the gallery made tells, and the gate refuses rather than decide from it.
    base = held()
    gallery = base.access.gallery
    ids = gallery.template_ids()
    assert ids is not None
    names, labels, matrix = gallery.as_index()
    matrix = matrix.copy()
    matrix[0] = unit_descriptor(99)
    altered = Gallery.from_index(names, labels, matrix, ids)
    base = replace(base, access=replace(base.access, gallery=altered))
    wire = delta_to_wire(NEW, "7.abc", old_ids(), "gate-1", KEY)
    with pytest.raises(ValueError, match="not the server's"):
        open_delta(wire, base, "gate-1", KEY)
    assert open_delta(wire, held(), "gate-1", KEY)[0].version == "8.abc"


def test_entries_sent_in_a_bucket_said_to_be_kept_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A server that names cy's bucket kept (with the digest the gate holds) and sends
    # cy in it too: the gate cannot tell which to believe, and refuses the delta.
    delivered = Sections.of(OLD.access).digests
    monkeypatch.setattr(
        snapshot_delta, "kept_out", lambda kept: kept_out({**kept, CY: delivered[CY]})
    )
    wire = delta_to_wire(ENROLLED, "7.abc", old_ids(), "gate-1", KEY, delivered)
    assert "cy" in opened(wire)["people"]  # type: ignore[operator]
    with pytest.raises(ValueError, match="sent in a bucket said to be kept"):
        open_delta(wire, held(), "gate-1", KEY)


def crowd(version: str, residents: range, cards: range) -> GateSnapshot:
    """Door ``d1`` at ``version``: residents ``p<n>`` (a template each), cards ``C<n>``."""
    ids = [(f"t{n}", f"p{n}", n) for n in residents]
    snapshot = snapshot_of(version, ids, "C-none")
    access = replace(snapshot.access, cards={f"C{n}": f"p{n}" for n in cards})
    return replace(snapshot, access=access)


def ids_of(snapshot: GateSnapshot) -> tuple[str, ...]:
    ids = snapshot.access.gallery.template_ids()
    assert ids is not None
    return ids


def digests_of(snapshot: GateSnapshot) -> dict[str, str]:
    return dict(Sections.of(snapshot.access).digests)


def test_a_chain_of_deltas_cuts_the_sections_held_by_key_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = crowd("1.a", range(300), range(300))
    second = crowd("2.a", range(301), range(301))  # p300 enrolled, with a card
    third = crowd("3.a", range(1, 301), range(1, 301))  # p0 erased, and their card
    base = snapshot_from_wire(snapshot_to_wire(first, "gate-1", KEY), "gate-1", KEY)
    one = delta_to_wire(second, "1.a", ids_of(first), "gate-1", KEY, digests_of(first))
    got, known = open_delta(one, base, "gate-1", KEY)
    two = delta_to_wire(third, "2.a", ids_of(second), "gate-1", KEY, digests_of(second))
    sent = opened(two)
    cut: list[str] = []
    monkeypatch.setattr(access_wire, "bucket_of", lambda key: cut.append(key) or bucket_of(key))
    last, after = open_delta(two, got, "gate-1", KEY, known)
    # Only the entries sent were cut by key (main cut every person and card held, 600).
    assert len(cut) == len(sent["people"]) + len(sent["cards"])  # type: ignore[arg-type]
    monkeypatch.undo()
    assert last.access.people == third.access.people
    assert last.access.cards == third.access.cards
    assert {p: after.of(p) for p in PARTS} == Sections.of(third.access).digests
