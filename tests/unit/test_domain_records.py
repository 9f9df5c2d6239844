"""Domain rules of the building's data: doors, schedules, passes, consent, alerts, PINs."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from facegate.domain.access import AccessRule, AlertEntry, TimeWindow, WeeklySchedule
from facegate.domain.credentials import Card, VisitorPass, hash_pin, pin_matches
from facegate.domain.errors import ValidationError
from facegate.domain.events import Event
from facegate.domain.people import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Person,
    Role,
    consent_in_force,
    new_consent_for,
)
from facegate.domain.reasons import Reason
from facegate.domain.retention import RetentionPolicy, cutoff
from facegate.domain.site import CredentialKind, CredentialMode, Door, DoorKind, Lift, Site

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday
K = CredentialKind


def door(*kinds: CredentialKind) -> Door:
    return Door("d1", "s1", "Main", DoorKind.ENTRANCE, CredentialMode.ANY_OF, frozenset(kinds))


def test_a_door_that_takes_faces_must_take_something_else() -> None:
    with pytest.raises(ValidationError, match="accepts faces only"):
        door(K.FACE)
    with pytest.raises(ValidationError, match="no credential"):
        door()
    assert door(K.FACE, K.CARD).accepted == {K.FACE, K.CARD}
    assert door(K.CARD).accepted == {K.CARD}


def test_site_and_lift_validation() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        Site("s", "Oak Court", "Mars/Olympus")
    with pytest.raises(ValidationError, match="ascend"):
        Lift("l", "b", "A", (3, 1))
    assert Lift("l", "b", "A", (0, 1, 2)).floors == (0, 1, 2)


def test_schedule_runs_in_the_site_time_zone_and_over_midnight() -> None:
    weekdays = TimeWindow(frozenset(range(5)), time(7), time(22))
    berlin = WeeklySchedule("Europe/Berlin", (weekdays,))
    # 06:30 UTC in March is 07:30 in Berlin (UTC+1).
    assert berlin.is_open(datetime(2026, 3, 2, 6, 30, tzinfo=UTC))
    assert not berlin.is_open(datetime(2026, 3, 2, 5, 30, tzinfo=UTC))
    assert not berlin.is_open(datetime(2026, 3, 7, 10, tzinfo=UTC))  # Saturday
    night = WeeklySchedule("UTC", (TimeWindow(frozenset({4}), time(22), time(2)),))
    assert night.is_open(datetime(2026, 3, 6, 23, tzinfo=UTC))  # Friday night
    assert night.is_open(datetime(2026, 3, 7, 1, tzinfo=UTC))  # early Saturday
    assert not night.is_open(datetime(2026, 3, 7, 3, tzinfo=UTC))
    closed = WeeklySchedule("UTC", (weekdays,), frozenset({date(2026, 3, 2)}))
    assert not closed.is_open(NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        berlin.is_open(datetime(2026, 3, 2, 9))


def test_access_rule_names_one_subject_and_a_place() -> None:
    schedule = WeeklySchedule("UTC", ())
    with pytest.raises(ValidationError, match="either one person or one role"):
        AccessRule("r", schedule, person_id="p", role=Role.STAFF, door_ids=frozenset({"d"}))
    with pytest.raises(ValidationError, match="doors or floors"):
        AccessRule("r", schedule, role=Role.STAFF)
    rule = AccessRule("r", schedule, role=Role.STAFF, floors=frozenset({3}))
    assert rule.applies_to("anyone", Role.STAFF)
    assert not rule.applies_to("anyone", Role.RESIDENT)


def test_visitor_pass_reasons() -> None:
    visit = VisitorPass("v", "host", "Guest", NOW, NOW + timedelta(hours=2), 2, "h")
    assert visit.refusal(NOW) is None
    assert visit.refusal(NOW - timedelta(seconds=1)) is Reason.OUTSIDE_SCHEDULE
    assert visit.refusal(NOW + timedelta(hours=2)) is Reason.PASS_EXPIRED
    assert visit.used().used().refusal(NOW) is Reason.PASS_USED_UP
    with pytest.raises(ValidationError, match="end after"):
        VisitorPass("v", "host", "Guest", NOW, NOW, 1, "h")
    with pytest.raises(ValidationError, match="at least one use"):
        VisitorPass("v", "host", "Guest", NOW, NOW + timedelta(hours=1), 0, "h")


def test_consent_in_force_and_withdrawal() -> None:
    record = ConsentRecord("c", "p", ConsentPurpose.FACE_ACCESS, "v1", NOW, ConsentMethod.WRITTEN)
    assert consent_in_force([record], ConsentPurpose.FACE_ACCESS, NOW) == record
    assert consent_in_force([record], ConsentPurpose.FACE_ACCESS, NOW - timedelta(1)) is None
    gone = record.withdrawn(NOW + timedelta(days=1))
    assert consent_in_force([gone], ConsentPurpose.FACE_ACCESS, NOW + timedelta(days=2)) is None
    assert consent_in_force([], ConsentPurpose.FACE_ACCESS, NOW) is None


def test_a_minor_needs_a_guardian() -> None:
    child = Person("p", "s", "Kid", Role.HOUSEHOLD_MEMBER, NOW, minor=True)
    record = ConsentRecord("c", "p", ConsentPurpose.FACE_ACCESS, "v1", NOW, ConsentMethod.WRITTEN)
    with pytest.raises(ValidationError, match="guardian"):
        new_consent_for(child, record)
    with_guardian = ConsentRecord(
        "c", "p", ConsentPurpose.FACE_ACCESS, "v1", NOW, ConsentMethod.WRITTEN, guardian="Mum"
    )
    assert new_consent_for(child, with_guardian) is with_guardian


def test_alert_entries_lapse_and_need_a_legal_basis() -> None:
    entry = AlertEntry("a", "p", "theft", "case 2026/17", "admin", NOW, NOW + timedelta(days=30))
    assert entry.active(NOW)
    assert not entry.active(NOW + timedelta(days=30))
    with pytest.raises(ValidationError, match="legal basis"):
        AlertEntry("a", "p", "theft", " ", "admin", NOW, NOW + timedelta(days=1))
    with pytest.raises(ValidationError, match="expire after"):
        AlertEntry("a", "p", "theft", "case", "admin", NOW, NOW)


def test_pins_are_hashed_and_checked() -> None:
    stored = hash_pin("482913", b"0123456789abcdef")
    assert "482913" not in stored
    assert pin_matches("482913", stored)
    assert not pin_matches("482914", stored)
    assert not pin_matches("482913", "plain")
    with pytest.raises(ValidationError, match="digits"):
        hash_pin("12a4", b"0123456789abcdef")


def test_people_cards_events_and_retention_validate() -> None:
    with pytest.raises(ValidationError, match="name"):
        Person("p", "s", " ", Role.RESIDENT, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        Person("p", "s", "Ann", Role.RESIDENT, datetime(2026, 1, 1))
    with pytest.raises(ValidationError, match="card number"):
        Card("c", "p", "", NOW)
    with pytest.raises(ValueError, match="granted exactly"):
        Event("e", "d", NOW, True, Reason.UNKNOWN_FACE)
    with pytest.raises(ValueError, match="negative"):
        RetentionPolicy(events_days=-1)
    assert cutoff(NOW, 30) == NOW - timedelta(days=30)
