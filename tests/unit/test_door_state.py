"""A door's state on the dashboard from its last grant and its alarms (every branch)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from facegate.services.dashboard import DoorState, door_state

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def state(grant: datetime | None, *alarms: tuple[str, datetime]) -> DoorState:
    return door_state(NOW, grant, alarms, unlock_s=5.0, alarm_active_s=300.0)


def test_no_signal_is_locked() -> None:
    assert state(None) is DoorState.LOCKED


def test_a_grant_unlocks_for_the_unlock_time_only() -> None:
    assert state(ago(4.9)) is DoorState.UNLOCKED
    assert state(ago(5.1)) is DoorState.LOCKED


def test_forced_and_held_alarms_mark_the_door_while_active() -> None:
    assert state(None, ("door_forced_open", ago(60))) is DoorState.FORCED
    assert state(None, ("door_held_open", ago(60))) is DoorState.HELD
    assert state(None, ("door_forced_open", ago(301))) is DoorState.LOCKED


def test_other_alarms_leave_the_door_state_alone() -> None:
    assert state(None, ("gate_silent", ago(1)), ("alert_list", ago(1))) is DoorState.LOCKED


def test_the_latest_signal_wins() -> None:
    assert state(ago(2), ("door_forced_open", ago(60))) is DoorState.UNLOCKED
    assert state(ago(4), ("door_held_open", ago(1))) is DoorState.HELD


def test_an_open_contact_shows_open_unless_forced_or_held() -> None:
    def with_contact(
        grant: datetime | None, contact: str, *alarms: tuple[str, datetime]
    ) -> DoorState:
        return door_state(NOW, grant, alarms, 5.0, 300.0, contact)

    assert with_contact(None, "open") is DoorState.OPEN
    assert with_contact(ago(1), "open") is DoorState.OPEN  # walked through
    assert with_contact(ago(1), "closed") is DoorState.UNLOCKED
    assert with_contact(None, "closed") is DoorState.LOCKED
    assert with_contact(None, "unknown") is DoorState.LOCKED  # never inferred
    assert with_contact(None, "open", ("door_forced_open", ago(9))) is DoorState.FORCED
    assert with_contact(None, "open", ("door_held_open", ago(9))) is DoorState.HELD
