from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from facegate.domain.access import AccessRule, AlertEntry, TimeWindow, WeeklySchedule
from facegate.domain.credentials import VisitorPass, hash_pin, qr_code_hash
from facegate.domain.matching import FloatArray, Gallery, MatchPolicy
from facegate.domain.people import Role
from facegate.domain.policy import (
    AccessData,
    Decision,
    FaceEvidence,
    PersonAccess,
    Presentation,
    SiteMode,
    Target,
    decide,
)
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind, CredentialMode

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday morning
NIGHT = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)
ALL = frozenset(CredentialKind)
DOOR = Target("door-1", ALL)
CARD_AND_FACE = Target(
    "door-1", frozenset({CredentialKind.CARD, CredentialKind.FACE}), CredentialMode.ALL_OF
)
LIFT = Target("lift-1", ALL, floors=(0, 1, 2, 3, 4))
DAYTIME = WeeklySchedule("UTC", (TimeWindow(frozenset(range(7)), time(7), time(22)),))
ALWAYS = WeeklySchedule("UTC", (TimeWindow(frozenset(range(7)), time(0), time(23, 59)),))
PIN_HASH = hash_pin("2468", b"0123456789abcdef")


def vector(seed: int) -> FloatArray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=128).astype(np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


ANN, BOB = vector(1), vector(2)


def near(v: FloatArray, by: float = 0.1) -> FloatArray:
    step = vector(99) * by
    return (v + step).astype(np.float32)


def access_data(**changes: object) -> AccessData:
    gallery = Gallery()
    gallery.add("ann", ANN)
    gallery.add("bob", BOB)
    data = AccessData(
        mode=SiteMode.NORMAL,
        people={"ann": PersonAccess(Role.RESIDENT), "bob": PersonAccess(Role.RESIDENT)},
        gallery=gallery,
        match=MatchPolicy(0.57, 0.02),
        cards={"C-100": "ann", "C-200": "bob"},
        pins={"ann": PIN_HASH},
        rules=(
            AccessRule("r1", DAYTIME, person_id="ann", door_ids=frozenset({"door-1"})),
            AccessRule("r2", ALWAYS, role=Role.STAFF, door_ids=frozenset({"door-1"})),
            AccessRule("r3", ALWAYS, person_id="ann", floors=frozenset({2, 7})),
            AccessRule("r4", DAYTIME, person_id="ann", floors=frozenset({3})),
        ),
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def face(v: FloatArray) -> Presentation:
    return Presentation(face=FaceEvidence(descriptor=v))


def check(decision: Decision, reason: Reason, person: str | None = None) -> None:
    assert decision.reason is reason
    assert decision.granted is (reason is Reason.GRANTED)
    assert decision.person_id == person


def test_enrolled_face_in_schedule_is_granted() -> None:
    decision = decide(face(near(ANN)), DOOR, access_data(), NOW)
    check(decision, Reason.GRANTED, "ann")
    assert decision.credentials == {CredentialKind.FACE}
    assert decision.scores["distance"] == pytest.approx(0.1, abs=1e-4)


@pytest.mark.parametrize(
    "refusal",
    [Reason.NO_FACE, Reason.MULTIPLE_FACES, Reason.LOW_QUALITY, Reason.SPOOF_SUSPECTED],
)
def test_face_refused_before_matching_keeps_its_reason(refusal: Reason) -> None:
    presented = Presentation(face=FaceEvidence(refusal=refusal))
    check(decide(presented, DOOR, access_data(), NOW), refusal)


def test_stranger_is_unknown_face() -> None:
    check(decide(face(vector(50)), DOOR, access_data(), NOW), Reason.UNKNOWN_FACE)


def test_look_alikes_within_margin_are_below_margin() -> None:
    gallery = Gallery()
    gallery.add("ann", ANN)
    gallery.add("twin", near(ANN, 0.05))
    data = access_data(gallery=gallery)
    check(decide(face(near(ANN, 0.02)), DOOR, data, NOW), Reason.BELOW_MARGIN)


def test_schedule_closed_is_outside_schedule() -> None:
    check(decide(face(ANN), DOOR, access_data(), NIGHT), Reason.OUTSIDE_SCHEDULE, "ann")


def test_person_without_rule_for_the_door_is_not_allowed_here() -> None:
    check(decide(face(BOB), DOOR, access_data(), NOW), Reason.NOT_ALLOWED_HERE, "bob")


def test_role_rule_grants_staff() -> None:
    people = {"bob": PersonAccess(Role.STAFF), "ann": PersonAccess(Role.RESIDENT)}
    check(decide(face(BOB), DOOR, access_data(people=people), NIGHT), Reason.GRANTED, "bob")


def test_alert_list_denies_and_raises_alert() -> None:
    entry = AlertEntry(
        "a1",
        "ann",
        "threats",
        "court order 12",
        "admin",
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
    )
    decision = decide(face(ANN), DOOR, access_data(alerts=(entry,)), NOW)
    check(decision, Reason.ALERT_LIST, "ann")
    assert decision.alert
    lapsed = decide(face(ANN), DOOR, access_data(alerts=(entry,)), NOW + timedelta(days=2))
    assert not lapsed.alert


def test_consent_withdrawn_after_the_snapshot_refuses_the_face_not_the_card() -> None:
    people = {"ann": PersonAccess(Role.RESIDENT, face_consent_until=NOW - timedelta(minutes=1))}
    data = access_data(people=people)
    check(decide(face(ANN), DOOR, data, NOW), Reason.CONSENT_WITHDRAWN, "ann")
    check(decide(Presentation(card_number="C-100"), DOOR, data, NOW), Reason.GRANTED, "ann")


def test_moved_out_person_is_not_allowed() -> None:
    data = access_data(people={"ann": PersonAccess(Role.RESIDENT, moved_out=True)})
    check(
        decide(Presentation(card_number="C-100"), DOOR, data, NOW), Reason.NOT_ALLOWED_HERE, "ann"
    )


def test_lockdown_denies_everyone() -> None:
    check(decide(face(ANN), DOOR, access_data(mode=SiteMode.LOCKDOWN), NOW), Reason.LOCKDOWN)


def test_free_passage_grants_and_enables_every_floor() -> None:
    data = access_data(mode=SiteMode.FREE_PASSAGE)
    check(decide(face(vector(50)), DOOR, data, NIGHT), Reason.GRANTED)
    assert decide(Presentation(), LIFT, data, NOW).floors == LIFT.floors


def test_unknown_card_and_kind_the_door_does_not_take() -> None:
    check(
        decide(Presentation(card_number="X"), DOOR, access_data(), NOW), Reason.UNKNOWN_CREDENTIAL
    )
    face_only_reader = Target("door-1", frozenset({CredentialKind.CARD, CredentialKind.PIN}))
    check(decide(face(ANN), face_only_reader, access_data(), NOW), Reason.NOT_ALLOWED_HERE)
    check(decide(Presentation(), DOOR, access_data(), NOW), Reason.NO_FACE)


def test_pin_needs_a_person_and_the_right_digits() -> None:
    data = access_data()
    good = Presentation(pin="2468", pin_person_id="ann")
    check(decide(good, DOOR, data, NOW), Reason.GRANTED, "ann")
    check(decide(replace(good, pin="1357"), DOOR, data, NOW), Reason.WRONG_PIN, "ann")
    check(decide(replace(good, pin_person_id=None), DOOR, data, NOW), Reason.UNKNOWN_CREDENTIAL)


def _pass(**changes: object) -> VisitorPass:
    base = VisitorPass(
        "p1",
        "ann",
        "Guest",
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=1),
        2,
        qr_code_hash("QR1"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("visitor_pass", "moment", "reason"),
    [
        (_pass(), NOW, Reason.GRANTED),
        (_pass(), NOW + timedelta(hours=2), Reason.PASS_EXPIRED),
        (_pass(), NOW - timedelta(hours=2), Reason.OUTSIDE_SCHEDULE),
        (_pass(uses=2), NOW, Reason.PASS_USED_UP),
    ],
)
def test_visitor_pass_window_and_uses(
    visitor_pass: VisitorPass, moment: datetime, reason: Reason
) -> None:
    data = access_data(passes={visitor_pass.code_hash: visitor_pass})
    decision = decide(Presentation(qr_code="QR1"), DOOR, data, moment)
    check(decision, reason)
    assert decision.pass_id == (visitor_pass.id if reason is Reason.GRANTED else None)


def test_unknown_qr_code() -> None:
    check(decide(Presentation(qr_code="nope"), DOOR, access_data(), NOW), Reason.UNKNOWN_CREDENTIAL)


def test_all_of_card_then_face_of_the_card_holder() -> None:
    data = access_data()
    both = Presentation(face=FaceEvidence(descriptor=near(ANN)), card_number="C-100")
    check(decide(both, CARD_AND_FACE, data, NOW), Reason.GRANTED, "ann")
    wrong_face = replace(both, face=FaceEvidence(descriptor=BOB))
    check(decide(wrong_face, CARD_AND_FACE, data, NOW), Reason.UNKNOWN_FACE, "ann")
    check(decide(Presentation(card_number="C-100"), CARD_AND_FACE, data, NOW), Reason.NO_FACE)
    unknown = Presentation(card_number="C-999")  # refused as a card, not left waiting for a face
    check(decide(unknown, CARD_AND_FACE, data, NOW), Reason.UNKNOWN_CREDENTIAL)
    check(decide(face(ANN), CARD_AND_FACE, data, NOW), Reason.UNKNOWN_CREDENTIAL)
    spoof = replace(both, face=FaceEvidence(refusal=Reason.SPOOF_SUSPECTED))
    check(decide(spoof, CARD_AND_FACE, data, NOW), Reason.SPOOF_SUSPECTED, "ann")


def look_alikes(cohort_margin: float | None, cohort_share: float = 0.01) -> AccessData:
    """Ann, her look-alike Cara 0.4 away along one direction, and Bob far from both."""
    gallery = Gallery()
    gallery.add("ann", ANN)
    gallery.add("cara", near(ANN, 0.4))
    gallery.add("bob", BOB)
    match = MatchPolicy(0.57, 0.02, cohort_margin=cohort_margin, cohort_share=cohort_share)
    return access_data(gallery=gallery, match=match)


def with_anns_card(descriptor: FloatArray) -> Presentation:
    return Presentation(face=FaceEvidence(descriptor=descriptor), card_number="C-100")


def test_all_of_refuses_a_face_as_near_to_another_resident_as_to_the_card_holder() -> None:
    """A stranger with Ann's card, within 0.57 of her but as near to Cara: not Ann's face."""
    stranger = with_anns_card(near(ANN, 0.2))  # 0.2 from Ann and from Cara
    decision = decide(stranger, CARD_AND_FACE, look_alikes(0.03), NOW)
    check(decision, Reason.BELOW_MARGIN, "ann")  # the card's holder, as for any refused face
    assert decision.scores["distance"] == pytest.approx(0.2, abs=1e-5)
    assert decision.scores["margin"] == pytest.approx(0.0, abs=1e-5)
    nearer_cara = with_anns_card(near(ANN, 0.25))
    check(decide(nearer_cara, CARD_AND_FACE, look_alikes(0.0), NOW), Reason.BELOW_MARGIN, "ann")
    # Ann herself is far nearer to her templates than to anyone else: granted.
    ann = decide(with_anns_card(near(ANN, 0.05)), CARD_AND_FACE, look_alikes(0.03), NOW)
    check(ann, Reason.GRANTED, "ann")
    assert ann.scores["margin"] == pytest.approx(0.3, abs=1e-5)


def test_by_default_a_card_does_not_open_for_a_face_nearer_another_resident() -> None:
    """The shipped policy (as a gate's snapshot carries it) has the cohort rule on."""
    gallery = Gallery()
    gallery.add("ann", ANN)
    gallery.add("cara", near(ANN, 0.4))
    data = access_data(gallery=gallery)  # MatchPolicy(0.57, 0.02): every default else
    stranger = with_anns_card(near(ANN, 0.25))  # 0.25 from Ann, 0.15 from Cara
    check(decide(stranger, CARD_AND_FACE, data, NOW), Reason.BELOW_MARGIN, "ann")
    check(decide(with_anns_card(ANN), CARD_AND_FACE, data, NOW), Reason.GRANTED, "ann")


def test_the_cohort_is_the_mean_of_the_nearest_share_of_the_others() -> None:
    """Half of the two others is Cara alone; all of them brings Bob (far) into the mean."""
    stranger = with_anns_card(near(ANN, 0.2))
    check(decide(stranger, CARD_AND_FACE, look_alikes(0.03, 0.5), NOW), Reason.BELOW_MARGIN, "ann")
    wide = decide(stranger, CARD_AND_FACE, look_alikes(0.03, 1.0), NOW)
    check(wide, Reason.GRANTED, "ann")
    far = float(np.linalg.norm(near(ANN, 0.2) - BOB))
    assert wide.scores["margin"] == pytest.approx((0.2 + far) / 2 - 0.2, abs=1e-5)


def test_the_cohort_takes_a_share_of_the_others_and_at_least_one() -> None:
    policy = MatchPolicy(0.57, 0.06)  # the shipped 1 %
    assert [policy.cohort_count(n) for n in (0, 1, 99, 100, 101, 1999, 24999)] == [
        1,
        1,
        1,
        1,
        2,
        20,
        250,
    ]


def test_the_cohort_rule_off_and_with_nobody_else_enrolled() -> None:
    stranger = with_anns_card(near(ANN, 0.2))
    check(decide(stranger, CARD_AND_FACE, look_alikes(None), NOW), Reason.GRANTED, "ann")
    gallery = Gallery()
    gallery.add("ann", ANN)
    alone = access_data(gallery=gallery, match=MatchPolicy(0.57, 0.02, cohort_margin=0.5))
    decision = decide(stranger, CARD_AND_FACE, alone, NOW)
    check(decision, Reason.GRANTED, "ann")
    assert "margin" not in decision.scores  # nobody to compare with: no score


def test_the_cohort_rule_fails_closed_on_a_nan_margin() -> None:
    ann = with_anns_card(near(ANN, 0.05))
    check(decide(ann, CARD_AND_FACE, look_alikes(float("nan")), NOW), Reason.BELOW_MARGIN, "ann")


def test_the_threshold_refuses_before_the_cohort() -> None:
    far = decide(with_anns_card(BOB), CARD_AND_FACE, look_alikes(0.03), NOW)
    check(far, Reason.UNKNOWN_FACE, "ann")
    assert "margin" not in far.scores


def test_lift_enables_only_floors_allowed_now() -> None:
    data = access_data()
    day = decide(face(ANN), LIFT, data, NOW)
    check(day, Reason.GRANTED, "ann")
    assert day.floors == (2, 3)  # 7 is not served by this lift
    assert decide(face(ANN), LIFT, data, NIGHT).floors == (2,)
    check(decide(face(BOB), LIFT, data, NOW), Reason.NOT_ALLOWED_HERE, "bob")


def test_lift_outside_schedule() -> None:
    rule = AccessRule("r", DAYTIME, person_id="ann", floors=frozenset({1}))
    check(
        decide(face(ANN), LIFT, access_data(rules=(rule,)), NIGHT), Reason.OUTSIDE_SCHEDULE, "ann"
    )


def test_nan_threshold_fails_closed() -> None:
    data = access_data(match=MatchPolicy(float("nan"), 0.0))
    check(decide(face(ANN), DOOR, data, NOW), Reason.UNKNOWN_FACE)
    both = Presentation(face=FaceEvidence(descriptor=ANN), card_number="C-100")
    check(decide(both, CARD_AND_FACE, data, NOW), Reason.UNKNOWN_FACE, "ann")


def test_any_of_reports_an_alert_over_other_denies() -> None:
    entry = AlertEntry(
        "a1",
        "bob",
        "threats",
        "court order 12",
        "admin",
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
    )
    presented = Presentation(face=FaceEvidence(descriptor=BOB), card_number="X")
    decision = decide(presented, DOOR, access_data(alerts=(entry,)), NOW)
    check(decision, Reason.ALERT_LIST, "bob")


def test_a_granted_decision_must_say_granted() -> None:
    with pytest.raises(ValueError, match="granted"):
        Decision(True, Reason.UNKNOWN_FACE)


def at_distance(v: FloatArray, distance: float) -> FloatArray:
    """A descriptor exactly ``distance`` from ``v`` (euclidean)."""
    other = vector(77) - np.dot(vector(77), v) * v
    return (v + distance * other / np.linalg.norm(other)).astype(np.float32)


def crowded(people: int) -> AccessData:
    """Ann and Bob among ``people`` enrolled (the others far from everyone)."""
    gallery = Gallery()
    gallery.add("ann", ANN)
    gallery.add("bob", BOB)
    for i in range(people - 2):
        gallery.add(f"resident-{i}", vector(1000 + i))
    return access_data(gallery=gallery)


def test_a_face_within_the_1to1_threshold_names_nobody_in_a_large_gallery() -> None:
    """0.45 from Ann: within 0.57, but among 200 residents (let alone 2,000) strangers
    that close to *someone* are too likely; in a gallery of two it is Ann."""
    probe = face(at_distance(ANN, 0.45))
    small, large = crowded(2), crowded(200)
    refused = decide(probe, DOOR, large, NOW)
    check(refused, Reason.UNKNOWN_FACE)
    assert refused.scores["distance"] == pytest.approx(0.45, abs=1e-4)
    assert "threshold" not in refused.scores  # none met the FPIR target at 200
    granted = decide(probe, DOOR, small, NOW)
    check(granted, Reason.GRANTED, "ann")
    assert granted.scores["threshold"] == small.match.identification_threshold(2)
    assert granted.scores["threshold"] < 0.57


def test_the_card_holders_face_is_still_checked_at_the_1to1_threshold() -> None:
    presented = Presentation(card_number="C-100", face=FaceEvidence(at_distance(ANN, 0.5)))
    check(decide(presented, CARD_AND_FACE, crowded(200), NOW), Reason.GRANTED, "ann")


def test_without_an_fpir_cap_a_large_gallery_keeps_the_1to1_threshold() -> None:
    data = crowded(200)
    data = replace(data, match=replace(data.match, max_fpir=1.0))
    check(decide(face(at_distance(ANN, 0.5)), DOOR, data, NOW), Reason.GRANTED, "ann")


FACE_AND_PIN = Target(
    "door-1", frozenset({CredentialKind.FACE, CredentialKind.PIN}), CredentialMode.ALL_OF
)
CARD_AND_PIN = Target(
    "door-1", frozenset({CredentialKind.CARD, CredentialKind.PIN}), CredentialMode.ALL_OF
)


def test_face_and_pin_checks_the_pin_of_the_person_the_face_named() -> None:
    data = access_data()
    shown = Presentation(face=FaceEvidence(descriptor=near(ANN)), pin="2468")
    check(decide(shown, FACE_AND_PIN, data, NOW), Reason.GRANTED, "ann")
    check(decide(replace(shown, pin="1357"), FACE_AND_PIN, data, NOW), Reason.WRONG_PIN, "ann")
    bob = Presentation(face=FaceEvidence(descriptor=near(BOB)), pin="2468")  # Bob has no PIN
    check(decide(bob, FACE_AND_PIN, data, NOW), Reason.UNKNOWN_CREDENTIAL, "bob")


def test_card_and_pin_checks_the_card_holders_pin_and_a_pin_alone_names_nobody() -> None:
    data = access_data()
    shown = Presentation(card_number="C-100", pin="2468")
    check(decide(shown, CARD_AND_PIN, data, NOW), Reason.GRANTED, "ann")
    check(decide(replace(shown, pin="0000"), CARD_AND_PIN, data, NOW), Reason.WRONG_PIN, "ann")
    check(decide(Presentation(pin="2468"), CARD_AND_PIN, data, NOW), Reason.UNKNOWN_CREDENTIAL)
