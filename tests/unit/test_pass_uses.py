"""A visitor pass opens a door no more often than its uses, before the snapshot knows.

The snapshot counts a pass's uses only once a grant's event is delivered and the gate
has synced again (at an offline edge gate: never until the link is back); the door
controller counts the uses it granted meanwhile, and the server's doors share one count.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from facegate.domain.credentials import VisitorPass, qr_code_hash
from facegate.domain.errors import ActuatorFailedError
from facegate.domain.gate import GateEvent, GateEventKind, GateSnapshot
from facegate.domain.liveness import LivenessSchedule
from facegate.domain.matching import MatchPolicy
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind
from facegate.gate.bench import bench_snapshot
from facegate.gate.controller import DoorController
from facegate.gate.loop import LoopOptions
from facegate.gate.outbox import SqliteOutbox
from facegate.gate.pass_uses import PassUses, restore
from fakes import FakeClock, FakeDoor, ListSink, unit_descriptor

CODE = "visitor-code-0001"
NOW = datetime(2026, 3, 3, tzinfo=UTC)


def with_pass(max_uses: int, uses: int = 0, floors: tuple[int, ...] = ()) -> GateSnapshot:
    """A door (or a lift, with ``floors``) taking QR codes, with one visitor pass."""
    held = bench_snapshot([unit_descriptor(7)], MatchPolicy(0.57, 0.0))
    start = datetime(2026, 3, 2, tzinfo=UTC)
    visit = VisitorPass(
        "pass-1", "bench-person", "Vi", start, start + timedelta(days=9), max_uses,
        qr_code_hash(CODE), uses,
    )  # fmt: skip
    accepted = held.target.accepted | {CredentialKind.QR}
    target = replace(held.target, accepted=accepted, floors=floors)
    homes = {"bench-person": floors[0]} if floors else {}
    access = replace(held.access, passes={visit.code_hash: visit}, home_floors=homes)
    return replace(held, target=target, access=access)


def controller(
    held: GateSnapshot, door: FakeDoor | None = None, uses: PassUses | None = None
) -> tuple[DoorController, ListSink]:
    sink = ListSink()
    options = LoopOptions("gate-t", 3.0, 0.6, LivenessSchedule(), 10.0).controller()
    door = door or FakeDoor()
    built = DoorController(lambda: held, door, sink, FakeClock(), options, passes=uses)
    return built, sink


def reasons(control: DoorController, times: int) -> list[Reason]:
    return [control.decide_credential("qr", CODE).decision.reason for _ in range(times)]


def test_a_one_time_pass_opens_an_offline_gate_once() -> None:
    control, sink = controller(with_pass(1))  # the snapshot never learns of the use
    assert reasons(control, 3) == [Reason.GRANTED, Reason.PASS_USED_UP, Reason.PASS_USED_UP]
    assert [e.granted for e in sink.events] == [True, False, False]


def test_uses_counted_here_add_to_those_the_snapshot_knows() -> None:
    control, _ = controller(with_pass(3, uses=1))
    assert reasons(control, 3) == [Reason.GRANTED, Reason.GRANTED, Reason.PASS_USED_UP]


def test_doors_sharing_a_count_open_once_for_a_one_time_pass() -> None:
    shared = PassUses()
    north, _ = controller(with_pass(1), uses=shared)
    south, _ = controller(with_pass(1), uses=shared)
    assert reasons(north, 1) + reasons(south, 1) == [Reason.GRANTED, Reason.PASS_USED_UP]


def test_a_lock_that_failed_used_nothing() -> None:
    held = with_pass(1)
    shared = PassUses()
    broken, _ = controller(held, FakeDoor(ActuatorFailedError("no answer")), shared)
    assert reasons(broken, 1) == [Reason.ACTUATOR_FAILED]
    working, _ = controller(held, uses=shared)
    assert reasons(working, 2) == [Reason.GRANTED, Reason.PASS_USED_UP]


def test_a_lift_ride_is_not_a_use() -> None:
    control, _ = controller(with_pass(1, uses=1, floors=(1, 2)))  # used at the door
    assert reasons(control, 2) == [Reason.GRANTED, Reason.GRANTED]


def test_a_gate_restarted_before_its_grant_was_delivered_does_not_give_the_use_back(
    tmp_path: Path,
) -> None:
    """The saved snapshot holds the uses delivered before it was saved; the grant still
    in the outbox is a use too (the red team: a restarted offline gate forgot it)."""
    held = with_pass(2, uses=1)
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    first, _ = controller(held)
    first.events = outbox  # the gate's outbox, as built
    assert reasons(first, 1) == [Reason.GRANTED]
    assert reasons(controller(held)[0], 1) == [Reason.GRANTED]  # a restart without restore
    again, _ = controller(held)
    assert restore(again.passes, held, outbox.pending_pass_grants(), NOW) == 1
    assert reasons(again, 1) == [Reason.PASS_USED_UP]
    outbox.close()


def test_only_this_doors_pass_grants_are_counted_again() -> None:
    held = with_pass(1)
    visit = next(iter(held.access.passes.values()))
    grant = GateEvent(
        "k1", "gate-t", GateEventKind.DECISION, held.target.id, NOW, True,
        Reason.GRANTED, pass_id=visit.id,
    )  # fmt: skip
    others = [
        replace(grant, key="k2", door_id="another-door"),
        replace(grant, key="k3", granted=False, reason=Reason.PASS_USED_UP),
        replace(grant, key="k4", pass_id="another-pass"),
    ]
    assert restore(PassUses(), held, others, NOW) == 0
    lift = with_pass(1, floors=(1, 2))
    assert restore(PassUses(), lift, [replace(grant, door_id=lift.target.id)], NOW) == 0
    assert restore(PassUses(), held, [grant], NOW) == 1
