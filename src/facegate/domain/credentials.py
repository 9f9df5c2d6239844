"""Credentials: face templates (sealed), cards, PINs (hashed) and visitor QR passes.

Nothing here holds a secret in the clear at rest: a face template is AES-GCM ciphertext
under its person's data key, a PIN is an scrypt hash, a QR pass is the SHA-256 of its
code (the code itself is printed once, when the pass is made).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeAlias

from facegate.domain.clock import require_aware
from facegate.domain.errors import ValidationError
from facegate.domain.reasons import Reason

PIN_DIGITS_MIN = 4
"""Shortest PIN accepted (digits); 6 is typical."""
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A person's data key, encrypted (wrapped) by the site key.

    Attributes:
        person_id: whose key.
        site_key_id: fingerprint of the site key that wrapped it.
        wrapped: nonce and ciphertext of the 256-bit data key.
    """

    person_id: str
    site_key_id: str
    wrapped: bytes


@dataclass(frozen=True, slots=True)
class SealedTemplate:
    """One face template, encrypted.

    Attributes:
        id: opaque id (bound into the ciphertext's associated data).
        person_id: whose face (bound likewise).
        model_id: the descriptor model that made it; templates of another model are
            never compared with its descriptors.
        created_at: enrollment time (UTC).
        sealed: AES-GCM nonce and ciphertext of the 128 float32 descriptor.
    """

    id: str
    person_id: str
    model_id: str
    created_at: datetime
    sealed: bytes


SealedRow: TypeAlias = tuple[str, str, bytes]
"""One template as the bulk read of a gallery returns it: ``(template id, person id,
sealed)``, as in :class:`SealedTemplate`. Plain tuples: a 75,000-template gallery is read
and opened without an object per template."""


@dataclass(frozen=True, slots=True)
class Card:
    """An access card: its number is unique on the site."""

    id: str
    person_id: str
    number: str
    created_at: datetime

    def __post_init__(self) -> None:
        if not self.number.strip() or not self.number.isprintable():
            raise ValidationError(f"card number {self.number!r} is empty or unprintable")
        require_aware(self.created_at, "created_at")


def hash_pin(pin: str, salt: bytes) -> str:
    """The scrypt hash of ``pin`` with ``salt`` (16 random bytes), as a self-describing string.

    Raises:
        ValidationError: the PIN is not at least :data:`PIN_DIGITS_MIN` digits.
    """
    if not (pin.isdigit() and pin.isascii() and len(pin) >= PIN_DIGITS_MIN):
        raise ValidationError(f"a PIN is at least {PIN_DIGITS_MIN} digits")
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    fields = (_SCRYPT_N, _SCRYPT_R, _SCRYPT_P)
    encoded = (base64.b64encode(salt).decode(), base64.b64encode(digest).decode())
    return "$".join(("scrypt", *map(str, fields), *encoded))


def pin_matches(pin: str, stored: str) -> bool:
    """Whether ``pin`` hashes to ``stored`` (constant-time comparison); malformed is ``False``."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    n, r, p = (int(x) for x in parts[1:4])
    salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p)
    return hmac.compare_digest(digest, expected)


@dataclass(frozen=True, slots=True)
class PinCredential:
    """A person's PIN, stored as :func:`hash_pin` output only."""

    id: str
    person_id: str
    pin_hash: str
    created_at: datetime


def qr_code_hash(code: str) -> str:
    """SHA-256 (hex) of a QR pass code: what is stored instead of the code."""
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class VisitorPass:
    """A visitor's QR pass, valid in a window for a number of uses.

    Attributes:
        id: opaque id.
        host_id: the resident who invited the visitor.
        visitor_name: who the visitor is (personal data of the visitor).
        valid_from: first moment it opens a door (UTC).
        valid_until: first moment it no longer does (UTC).
        max_uses: how many times it may open a door (at least 1).
        uses: how many times it has.
        code_hash: :func:`qr_code_hash` of the code printed on the pass.
    """

    id: str
    host_id: str
    visitor_name: str
    valid_from: datetime
    valid_until: datetime
    max_uses: int
    code_hash: str
    uses: int = 0

    def __post_init__(self) -> None:
        start = require_aware(self.valid_from, "valid_from")
        if require_aware(self.valid_until, "valid_until") <= start:
            raise ValidationError("a pass must end after it starts")
        if self.max_uses < 1 or not 0 <= self.uses <= self.max_uses:
            raise ValidationError("a pass allows at least one use and never more than its max")

    def refusal(self, now: datetime, *, counting_uses: bool = True) -> Reason | None:
        """Why the pass opens nothing at ``now``, or ``None`` when it is good for a use.

        Args:
            now: the moment (aware).
            counting_uses: ``False`` in a lift: a ride to the host's floor is not a use
                (the visitor already used the pass at the building's door), so only the
                validity window applies.
        """
        if now >= self.valid_until:
            return Reason.PASS_EXPIRED
        if now < self.valid_from:
            return Reason.OUTSIDE_SCHEDULE
        if counting_uses and self.uses >= self.max_uses:
            return Reason.PASS_USED_UP
        return None

    def used(self) -> VisitorPass:
        """This pass with one more use counted."""
        return replace(self, uses=self.uses + 1)
