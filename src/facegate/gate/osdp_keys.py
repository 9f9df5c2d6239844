"""OSDP Secure Channel base keys (SCBK), one per device, kept like the site key.

Each device's key is 16 random bytes in ``<data-dir>/osdp/pd-<address>.scbk`` (hex, mode
0600, in a 0700 folder). ``facegate osdp key ADDRESS`` makes it; the installer puts the
same key into the reader or output board (its configuration tool, or an OSDP KEYSET sent
while it is in install mode). A gate refuses to start an OSDP device without its key, and
a key file readable by others: Secure Channel is always enforced.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from facegate.domain.errors import KeyFileError

SCBK_BYTES = 16
"""Length of an OSDP Secure Channel base key (bytes, AES-128)."""


def key_path(data_dir: Path, address: int) -> Path:
    """Where the key of the device at ``address`` (0-126) lives."""
    if not 0 <= address <= 126:
        raise KeyFileError(f"OSDP address {address} is outside 0-126")
    return data_dir / "osdp" / f"pd-{address}.scbk"


def read_key(data_dir: Path, address: int) -> bytes:
    """The key of the device at ``address``.

    Raises:
        KeyFileError: missing (make it with ``facegate osdp key``), readable by others, or
            not 32 hex digits.
    """
    path = key_path(data_dir, address)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError as err:
        raise KeyFileError(
            f"{path}: no OSDP key for address {address} (run 'facegate osdp key {address}' "
            "and install the key in the device)"
        ) from err
    except (OSError, UnicodeDecodeError) as err:
        raise KeyFileError(f"{path}: unreadable OSDP key ({err})") from err
    if mode & 0o077:
        raise KeyFileError(f"{path}: the OSDP key is readable by others; chmod 600 it")
    try:
        key = bytes.fromhex(text)
    except ValueError as err:
        raise KeyFileError(f"{path}: malformed OSDP key (not hex)") from err
    if len(key) != SCBK_BYTES:
        raise KeyFileError(f"{path}: malformed OSDP key ({len(key)} bytes, expected 16)")
    return key


def create_key(data_dir: Path, address: int) -> tuple[bytes, bool]:
    """The key of the device at ``address``, made (mode 0600) when there is none.

    Returns:
        ``(key, created)``.

    Raises:
        KeyFileError: an existing key is unusable, or the file cannot be written.
    """
    path = key_path(data_dir, address)
    if path.exists():
        return read_key(data_dir, address), False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_bytes(SCBK_BYTES)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as err:
        raise KeyFileError(f"{path}: cannot create the OSDP key ({err})") from err
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key.hex() + "\n")
    return key, True
