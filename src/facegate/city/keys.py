"""Ed25519 keys and detached signatures (``cryptography``) for city messages.

A site signs its event batches and health messages with its own key; the hub signs its
notices with the hub key. Keys travel as base64 of the 32 raw bytes; private keys are
stored as PEM (PKCS#8) in files of mode 0600.
"""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from facegate.domain.errors import KeyFileError
from facegate.files import write_atomically


def new_private_key() -> Ed25519PrivateKey:
    """A fresh Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The public half of ``key`` as base64 of its 32 raw bytes."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_from_text(text: str) -> Ed25519PublicKey:
    """The public key that :func:`public_text` wrote.

    Raises:
        KeyFileError: ``text`` is not base64 of 32 bytes.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as err:
        raise KeyFileError(f"not an Ed25519 public key ({err})") from err


def save_private(path: Path, key: Ed25519PrivateKey) -> None:
    """Write ``key`` to ``path`` as unencrypted PKCS#8 PEM, mode 0600, atomically."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomically(path, pem, mode=0o600)


def load_private(path: Path) -> Ed25519PrivateKey:
    """The private key :func:`save_private` wrote.

    Raises:
        KeyFileError: the file is missing, unreadable or not an Ed25519 PEM key.
    """
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as err:
        raise KeyFileError(f"cannot read the key {path} ({err})") from err
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key")
    return key


def load_or_create_private(path: Path) -> Ed25519PrivateKey:
    """The key at ``path``, created (mode 0600) when the file does not exist yet."""
    if path.exists():
        return load_private(path)
    key = new_private_key()
    save_private(path, key)
    return key


def sign(key: Ed25519PrivateKey, body: bytes) -> str:
    """The detached signature of ``body`` as base64 (64 bytes)."""
    return base64.b64encode(key.sign(body)).decode("ascii")


def verify(public: Ed25519PublicKey, body: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) is ``public``'s signature of exactly ``body``."""
    try:
        public.verify(base64.b64decode(signature.encode("ascii"), validate=True), body)
    except (InvalidSignature, ValueError):
        return False
    return True
