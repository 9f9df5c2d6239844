"""Lockout after repeated wrong PINs: a keypad cannot be used to guess a person's PIN.

Kept at the gate, per person (the PIN is checked against whoever the card or face named):
``max_failures`` wrong PINs within ``window_s`` lock that person's PIN out for
``lockout_s``; while locked out, every PIN for them is refused as ``wrong_pin`` without
being checked, and the lockout is reported once. A right PIN clears the count. Pure: the
moment is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class PinLockoutPolicy:
    """How many wrong PINs lock a person out, and for how long.

    Attributes:
        max_failures: wrong PINs within the window that start a lockout (typical 3).
        window_s: how far back wrong PINs count (seconds, typical 300).
        lockout_s: how long the lockout lasts (seconds, typical 900).
    """

    max_failures: int = 3
    window_s: float = 300.0
    lockout_s: float = 900.0

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window_s <= 0 or self.lockout_s <= 0:
            raise ValueError("a PIN lockout needs max_failures >= 1 and positive seconds")


@dataclass(slots=True)
class PinLockout:
    """Wrong PIN counts and lockouts per person (in memory, at one gate)."""

    policy: PinLockoutPolicy = field(default_factory=PinLockoutPolicy)
    _failures: dict[str, list[datetime]] = field(default_factory=dict)
    _locked_until: dict[str, datetime] = field(default_factory=dict)

    def locked(self, person_id: str, now: datetime) -> bool:
        """Whether ``person_id``'s PIN is locked out at ``now``."""
        until = self._locked_until.get(person_id)
        if until is None:
            return False
        if now >= until:
            del self._locked_until[person_id]
            return False
        return True

    def failed(self, person_id: str, now: datetime) -> bool:
        """Count a wrong PIN for ``person_id``; whether it started a lockout."""
        since = now - timedelta(seconds=self.policy.window_s)
        recent = [t for t in self._failures.get(person_id, []) if t > since] + [now]
        if len(recent) < self.policy.max_failures:
            self._failures[person_id] = recent
            return False
        self._failures.pop(person_id, None)
        self._locked_until[person_id] = now + timedelta(seconds=self.policy.lockout_s)
        return True

    def succeeded(self, person_id: str) -> None:
        """A right PIN for ``person_id``: forget their wrong ones."""
        self._failures.pop(person_id, None)
