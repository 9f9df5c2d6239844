"""Ports of the server side: accounts, password hashing, door actions, frame decisions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from facegate.domain.accounts import DeviceKey, ResetToken, User, WebSession
from facegate.domain.challenge import ChallengeView


class AccountRepository(Protocol):
    """Users, sessions, device keys and reset tokens."""

    def add_user(self, user: User) -> None:
        """Store a user (:class:`ConflictError` when the username is taken)."""
        ...

    def user(self, user_id: str) -> User:
        """The user with ``user_id`` (:class:`NotFoundError` when none)."""
        ...

    def user_named(self, username: str) -> User | None:
        """The user with ``username``, if any."""
        ...

    def users(self) -> list[User]:
        """Every user, by name."""
        ...

    def update_user(self, user: User) -> None:
        """Store a changed user."""
        ...

    def add_session(self, session: WebSession) -> None:
        """Store a new session."""
        ...

    def session(self, token_hash: str) -> WebSession | None:
        """The session with ``token_hash``, if any."""
        ...

    def delete_sessions(self, user_id: str, token_hash: str | None = None) -> int:
        """End one session of ``user_id`` (or all when ``token_hash`` is None)."""
        ...

    def add_device_key(self, key: DeviceKey) -> None:
        """Store a device key."""
        ...

    def device_key(self, key_id: str) -> DeviceKey:
        """The device key with ``key_id`` (:class:`NotFoundError` when none)."""
        ...

    def device_key_by_hash(self, key_hash: str) -> DeviceKey | None:
        """The device key whose secret hashes to ``key_hash``, if any."""
        ...

    def device_keys(self) -> list[DeviceKey]:
        """Every device key, newest first."""
        ...

    def update_device_key(self, key: DeviceKey) -> None:
        """Store a changed device key (a revocation)."""
        ...

    def add_reset_token(self, token: ResetToken) -> None:
        """Store a reset token."""
        ...

    def reset_token(self, token_hash: str) -> ResetToken | None:
        """The reset token with ``token_hash``, if any."""
        ...

    def update_reset_token(self, token: ResetToken) -> None:
        """Store a used reset token."""
        ...

    def retire_reset_tokens(self, user_id: str, at: datetime) -> int:
        """Mark every unused reset token of ``user_id`` used at ``at``; how many were."""
        ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords (Argon2 in production)."""

    def hash(self, password: str) -> str:
        """A salted hash of ``password``."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash`` (never raises on a mismatch)."""
        ...


class DoorOpener(Protocol):
    """Opens a door on an operator's command (the gate's actuator, seen from the server)."""

    def open(self, door_id: str) -> None:
        """Open ``door_id`` once.

        Raises:
            ServiceUnavailableError: the door's actuator cannot be reached.
        """
        ...


@dataclass(frozen=True, slots=True)
class FrameDecision:
    """A door's answer to one camera frame (or a typed credential).

    Attributes:
        granted: whether the door opens.
        reason: a :class:`facegate.domain.reasons.Reason` value.
        decided_at: when (UTC).
        pending: the face in the frame is not decided yet (the liveness check or the
            quality gate wants more frames): send the next frames; the door stays shut
            and ``reason`` is ``spoof_suspected`` meanwhile.
        challenge: at a challenge door, the prompts the face must follow and the
            countdown (``None`` elsewhere, or with no face in view).
    """

    granted: bool
    reason: str
    decided_at: datetime
    pending: bool = False
    challenge: ChallengeView | None = None


class FrameDecider(Protocol):
    """Decides at a door from a camera frame or a fallback credential (the gate's pipeline)."""

    def decide_frame(self, door_id: str, image: bytes, card: str | None = None) -> FrameDecision:
        """Decide from one encoded frame (JPEG/PNG bytes, bounded by the image limits).

        ``card``: a card number read with the frame (a face-and-card door's card).
        """
        ...

    def decide_credential(self, door_id: str, kind: str, value: str) -> FrameDecision:
        """Decide from a card number, PIN or QR code (``kind``: card, pin, qr)."""
        ...
