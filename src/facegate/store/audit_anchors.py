"""The audit anchor key and the append-only file of signed checkpoints.

The key is an Ed25519 key of its own, neither the site key nor anything in the database:
``audit-anchor.key`` (PKCS#8 PEM, mode 0600, made on first use) with its public key
beside it (``audit-anchor.pub``). Checkpoints go one JSON object a line to
``audit-anchors.jsonl``, opened for appending only and fsynced after each line. The folder
is ``Settings.audit_anchor_dir`` (default: the data directory); put it on another disk
or a mount the database's administrators cannot write to keep it apart.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from facegate.domain.audit_anchor import Checkpoint, SignedCheckpoint
from facegate.domain.errors import KeyFileError
from facegate.files import write_atomically

ANCHOR_KEY_FILE = "audit-anchor.key"
"""The anchor's private key (PKCS#8 PEM, 0600)."""
ANCHOR_PUBLIC_FILE = "audit-anchor.pub"
"""The anchor's public key (SubjectPublicKeyInfo PEM): enough to verify."""
ANCHORS_FILE = "audit-anchors.jsonl"
"""The signed checkpoints, one JSON object a line, oldest first."""


def key_id_of(public: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class AnchorFile:
    """Signs checkpoints with the anchor key and keeps them in an append-only file.

    Args:
        folder: where the key, its public half and the checkpoints live.
    """

    def __init__(self, folder: Path) -> None:
        self.key_path = folder / ANCHOR_KEY_FILE
        self.public_path = folder / ANCHOR_PUBLIC_FILE
        self.log_path = folder / ANCHORS_FILE

    def _private_key(self) -> Ed25519PrivateKey:
        if not self.key_path.exists():
            self._make_key()
        try:
            key = serialization.load_pem_private_key(self.key_path.read_bytes(), None)
        except (OSError, ValueError) as err:
            raise KeyFileError(f"audit anchor key {self.key_path} is unreadable: {err}") from err
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"audit anchor key {self.key_path} is not an Ed25519 key")
        if not self.public_path.exists():
            self._write_public(key.public_key())
        return key

    def _make_key(self) -> None:
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        self.key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:  # O_EXCL: of two processes making the key at once, one wins, both use it
            handle = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(handle, "wb") as out:
            out.write(private)
            out.flush()
            os.fsync(out.fileno())
        self._write_public(key.public_key())

    def _write_public(self, public: Ed25519PublicKey) -> None:
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_atomically(self.public_path, pem, mode=0o644)

    def public_key(self) -> Ed25519PublicKey:
        """The public key checkpoints are verified with.

        Raises:
            KeyFileError: ``audit-anchor.pub`` is missing or not an Ed25519 key.
        """
        try:
            key = serialization.load_pem_public_key(self.public_path.read_bytes())
        except (OSError, ValueError) as err:
            raise KeyFileError(
                f"audit anchor public key {self.public_path} is unreadable: {err}"
            ) from err
        if not isinstance(key, Ed25519PublicKey):
            raise KeyFileError(f"{self.public_path} is not an Ed25519 public key")
        return key

    def sign(self, checkpoint: Checkpoint) -> SignedCheckpoint:
        """``checkpoint`` signed with the anchor key (made on first use).

        Raises:
            KeyFileError: the key file exists but is unreadable.
        """
        key = self._private_key()
        signature = key.sign(checkpoint.signed_bytes()).hex()
        return SignedCheckpoint(checkpoint, key_id_of(key.public_key()), signature)

    def publish(self, signed: SignedCheckpoint) -> None:
        """Append ``signed`` as one line and fsync it."""
        line = json.dumps(_to_json(signed), sort_keys=True, separators=(",", ":")) + "\n"
        self.log_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(handle, "ab") as out:
            out.write(line.encode())
            out.flush()
            os.fsync(out.fileno())

    def verified(self) -> tuple[list[Checkpoint], str | None]:
        """The checkpoints whose signatures verify, and the first problem with the file.

        A line that is malformed, signed by another key or whose signature does not
        verify is a problem (the file was edited): it is named, and the lines before it
        are returned.

        Raises:
            KeyFileError: the public key is missing or unreadable.
        """
        public = self.public_key()
        if not self.log_path.exists():
            return [], f"no checkpoint file at {self.log_path}"
        checkpoints: list[Checkpoint] = []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            problem = _check_line(line, public)
            if isinstance(problem, str):
                return checkpoints, f"{self.log_path} line {number}: {problem}"
            checkpoints.append(problem)
        return checkpoints, None


def _to_json(signed: SignedCheckpoint) -> dict[str, Any]:
    return {
        **json.loads(signed.checkpoint.signed_bytes()),
        "key_id": signed.key_id,
        "signature": signed.signature,
    }


def _check_line(line: str, public: Ed25519PublicKey) -> Checkpoint | str:
    try:
        raw = json.loads(line)
        checkpoint = Checkpoint(
            int(raw["seq"]), str(raw["hash"]), datetime.fromisoformat(raw["at"])
        )
        signature = bytes.fromhex(str(raw["signature"]))
        key_id = str(raw["key_id"])
    except (ValueError, KeyError, TypeError) as err:
        return f"not a checkpoint ({err})"
    if key_id != key_id_of(public):
        return f"signed by another key ({key_id})"
    try:
        public.verify(signature, checkpoint.signed_bytes())
    except InvalidSignature:
        return "the signature does not verify (the line was edited)"
    return checkpoint
