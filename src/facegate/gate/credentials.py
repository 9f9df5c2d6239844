"""Credentials a reader delivered that wait for the rest: a card for the face, a PIN.

On an ``all_of`` door the credentials arrive one by one (a card read, a PIN typed, a face
coming into view); each waits ``window_s`` for the others. A PIN is a second factor only:
it is checked against whoever the card or the face named (the snapshot holds PIN hashes
only for the people allowed at that door), and :class:`~facegate.domain.pin_lockout.PinLockout`
locks a person's PIN out after repeated wrong ones (``wrong_pin``).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from facegate.domain.pin_lockout import PinLockout, PinLockoutPolicy
from facegate.domain.policy import Decision, FaceEvidence, Presentation, deny
from facegate.domain.reasons import Reason
from facegate.domain.site import CredentialKind


class WaitingCredentials:
    """The card and PIN last shown at one reader, each for ``window_s``; thread-safe.

    Args:
        window_s: how long a card or PIN waits for the other credentials (seconds).
        lockout: the wrong-PIN lockout policy.
    """

    def __init__(self, window_s: float, lockout: PinLockoutPolicy | None = None) -> None:
        self.window_s = window_s
        self.lockout = PinLockout(lockout or PinLockoutPolicy())
        self._card: tuple[str, float] | None = None
        self._pin: tuple[str, float] | None = None
        self._card_read = False
        self._lock = threading.Lock()

    def card(self, number: str) -> None:
        """A card was read; one not held before (another number, or used or expired) is new."""
        now = time.monotonic()
        with self._lock:
            held = self._card is not None and self._card[0] == number and now <= self._card[1]
            self._card = (number, now + self.window_s)
            self._card_read = self._card_read or not held

    def take_card_read(self) -> bool:
        """Whether a new card was read since the last call (and forget it)."""
        with self._lock:
            read, self._card_read = self._card_read, False
            return read

    def pin(self, digits: str) -> None:
        """A PIN was typed."""
        with self._lock:
            self._pin = (digits, time.monotonic() + self.window_s)

    def has(self, kind: CredentialKind) -> bool:
        """Whether a card or PIN is waiting now."""
        with self._lock:
            held = self._card if kind is CredentialKind.CARD else self._pin
            return held is not None and time.monotonic() <= held[1]

    def presentation(self, face: FaceEvidence | None) -> Presentation:
        """``face`` with the card and PIN still waiting."""
        now = time.monotonic()
        with self._lock:
            card = self._card[0] if self._card and now <= self._card[1] else None
            pin = self._pin[0] if self._pin and now <= self._pin[1] else None
        return Presentation(face=face, card_number=card, pin=pin)

    def settle(self, shown: Presentation, decision: Decision, now: datetime) -> Decision:
        """The decision after the lockout, and what is used up.

        A PIN for a locked-out person is refused ``wrong_pin`` even when right. A grant
        uses up the card and PIN; a wrong PIN is forgotten (type it again) and counted.
        """
        person = decision.person_id
        used_pin = shown.pin is not None and (
            CredentialKind.PIN in decision.credentials or decision.reason is Reason.WRONG_PIN
        )
        if used_pin and person is not None:
            if self.lockout.locked(person, now):
                decision = deny(Reason.WRONG_PIN, person, scores={"pin_locked_out": 1.0})
            elif decision.reason is Reason.WRONG_PIN:
                if self.lockout.failed(person, now):
                    decision = deny(Reason.WRONG_PIN, person, scores={"pin_locked_out": 1.0})
            elif decision.granted:
                self.lockout.succeeded(person)
        with self._lock:
            if decision.granted:
                self._card = self._pin = None
            elif decision.reason is Reason.WRONG_PIN:
                self._pin = None
        return decision
