"""Argon2id password hashing (argon2-cffi), behind :class:`facegate.ports.PasswordHasher`."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Argon2Hasher:
    """Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile).

    Args:
        time_cost: iterations (default 3; tests may lower it to 1 for speed).
        memory_kib: memory per hash in KiB (default 65536, i.e. 64 MiB).
    """

    def __init__(self, time_cost: int = 3, memory_kib: int = 65536) -> None:
        self._argon = _Argon2(time_cost=time_cost, memory_cost=memory_kib)

    def hash(self, password: str) -> str:
        """A salted Argon2id hash (PHC string)."""
        return self._argon.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches; a malformed hash counts as a mismatch."""
        try:
            return self._argon.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
