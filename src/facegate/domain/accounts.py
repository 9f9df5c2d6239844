"""Accounts of the web console and API: users, their sessions, and gates' device keys.

Secrets never appear here in the clear: a password is an Argon2 hash, a session token and
a device key are stored as their SHA-256 (the clear value is shown once, to its holder).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from facegate.domain.clock import require_aware
from facegate.domain.errors import ValidationError

_GATE_ID = re.compile(r"[A-Za-z0-9._-]{1,36}")

MIN_PASSWORD_LENGTH = 10
"""Shortest password accepted, in characters (no default password exists anywhere)."""
MIN_PASSWORD_SCORE = 3
"""Least zxcvbn score accepted (0-4; 3 is about 10^8 guesses: common passwords, keyboard
walks, repeats and dictionary words with digits are 0-2)."""
_SCORED_CHARS = 72
"""zxcvbn scores at most this many characters; a longer password is scored by its start."""


class AccountRole(StrEnum):
    """What an account may do.

    ``admin`` everything; ``operator`` day-to-day security work, not the audit log;
    ``auditor`` reads everything including the audit log, changes nothing; ``resident``
    only their own data (the account is linked to a person).
    """

    ADMIN = "admin"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    RESIDENT = "resident"


@dataclass(frozen=True, slots=True)
class User:
    """A login of the console or portal.

    Attributes:
        id: opaque id.
        username: unique login name.
        password_hash: Argon2 hash (PHC string).
        role: what the account may do.
        created_at: when (UTC).
        person_id: the person a resident account belongs to (required for residents).
        disabled: a disabled account cannot log in.
    """

    id: str
    username: str
    password_hash: str
    role: AccountRole
    created_at: datetime
    person_id: str | None = None
    disabled: bool = False

    def __post_init__(self) -> None:
        name = self.username
        if not name or name != name.strip() or len(name) > 64 or not name.isprintable():
            raise ValidationError("a username is 1-64 printable characters without edge spaces")
        if self.role is AccountRole.RESIDENT and self.person_id is None:
            raise ValidationError("a resident account must belong to a person")
        require_aware(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class WebSession:
    """A logged-in browser or API client.

    Attributes:
        token_hash: SHA-256 hex of the session token (the cookie holds the token).
        user_id: whose session.
        csrf_token: the token forms and unsafe requests must echo.
        created_at: when it began (UTC).
        expires_at: when it ends (UTC).
    """

    token_hash: str
    user_id: str
    csrf_token: str
    created_at: datetime
    expires_at: datetime

    def valid(self, now: datetime) -> bool:
        """Whether the session is still usable at ``now``."""
        return self.created_at <= now < self.expires_at


class GateKind(StrEnum):
    """What a registered gate is.

    ``edge`` a gate in its own process that decides offline from its snapshot (it may
    read its own door's snapshot); ``kiosk`` a tablet or camera that posts frames and
    credentials to the server's kiosk endpoints (it never gets a snapshot).
    """

    EDGE = "edge"
    KIOSK = "kiosk"


@dataclass(frozen=True, slots=True)
class Gate:
    """A gate registered for one door or lift; device keys are bound to it.

    Attributes:
        id: the gate's name (letters, digits, ``.``, ``_``, ``-``; 1-36 characters).
        target_id: the door or lift it serves (its only door).
        kind: edge gate or kiosk.
        created_at: when registered (UTC).
        label: a note for people.
    """

    id: str
    target_id: str
    kind: GateKind
    created_at: datetime
    label: str = ""

    def __post_init__(self) -> None:
        if not _GATE_ID.fullmatch(self.id):
            raise ValidationError("a gate id is 1-36 letters, digits, '.', '_' or '-'")
        require_aware(self.created_at, "created_at")


@dataclass(frozen=True, slots=True)
class DeviceKey:
    """A gate's API key, bound to one registered gate (and so to one door or lift).

    Attributes:
        id: opaque id.
        gate_id: the registered gate the key speaks for.
        key_hash: SHA-256 hex of the key.
        created_at: when issued (UTC).
        revoked_at: when revoked; a revoked key is refused.
        label: a note for people (``lobby tablet``).
        target_id: the gate's door or lift ("" when the gate record is missing: the key
            is then refused everywhere).
        kind: the gate's kind (a kiosk key never gets a snapshot).
    """

    id: str
    gate_id: str
    key_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    label: str = ""
    target_id: str = ""
    kind: GateKind = GateKind.KIOSK


@dataclass(frozen=True, slots=True)
class ResetToken:
    """A one-time password reset link's token (its hash), for one user.

    Attributes:
        token_hash: SHA-256 hex of the token.
        user_id: whose password it resets.
        expires_at: when it lapses (UTC).
        used_at: when it was used; a used token is refused.
    """

    token_hash: str
    user_id: str
    expires_at: datetime
    used_at: datetime | None = None


def secret_hash(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (session token, device key, reset token)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_password_strength(password: str, *related: str) -> None:
    """Refuse passwords too short or too easy to survive a guess.

    Besides the length, zxcvbn estimates the guesses an attacker needs with its shipped
    lists of common passwords, names and words, keyboard patterns, repeats and dates;
    ``related`` words (the username, the site) count as known to the attacker.

    Raises:
        ValidationError: fewer than :data:`MIN_PASSWORD_LENGTH` characters, or a zxcvbn
            score under :data:`MIN_PASSWORD_SCORE` (the message says why).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    from zxcvbn import zxcvbn  # its word lists take a moment to load: on first use only

    words = [w[:_SCORED_CHARS] for w in (*related, "facegate") if w]
    verdict = zxcvbn(password[:_SCORED_CHARS], user_inputs=words)
    if verdict["score"] < MIN_PASSWORD_SCORE:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise ValidationError(
            f"this password is too easy to guess ({hint}): use a longer passphrase"
        )
