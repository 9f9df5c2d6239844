"""The encrypted backup archive of a whole site.

Layout (version 1)::

    MAGIC (16 bytes) || header length (4 bytes, big-endian) || header (UTF-8 JSON)
    || AES-256-GCM ciphertext of the zlib-compressed JSON rows, with its 16-byte tag

The header names the format, the schema revision, the creation time, the site key's
fingerprint, and the random HKDF salt and GCM nonce; it is not secret but is
authenticated (it is the GCM associated data together with the magic and its length).
The archive key is HKDF-SHA256 of the site key with that salt and the info label
:data:`HKDF_INFO`, so it is never the site key itself and never in the archive: without
the site key a backup is useless, and any change, truncation or extension of the file
fails authentication as a whole. The rows are held in memory (a building's database is
megabytes; a site of hundreds of megabytes needs as much memory to back up).
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from facegate.domain.errors import ArchiveError, KeyFileError
from facegate.files import write_atomically
from facegate.ports.archive import SiteDump
from facegate.store.crypto import KEY_BYTES, NONCE_BYTES, site_key_id

MAGIC = b"FACEGATE-BACKUP\x00"
ARCHIVE_FORMAT = "facegate.site-backup/v1"
HKDF_INFO = b"facegate/site-backup/v1"
"""HKDF info label of the archive key (distinct from every other use of the site key)."""
SALT_BYTES = 16
MAX_HEADER_BYTES = 4096
_LENGTH = struct.Struct(">I")


def _archive_key(site_key: bytes, salt: bytes) -> bytes:
    kdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=HKDF_INFO)
    return kdf.derive(site_key)


def seal_archive(site_key: bytes, dump: SiteDump, created_at: datetime) -> bytes:
    """``dump`` as an encrypted, authenticated archive under a key derived from ``site_key``."""
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    header = {
        "format": ARCHIVE_FORMAT,
        "revision": dump.revision,
        "created_at": created_at.isoformat(),
        "site_key_id": site_key_id(site_key),
        "salt": base64.b64encode(salt).decode("ascii"),
        "nonce": base64.b64encode(nonce).decode("ascii"),
    }
    header_bytes = json.dumps(header, sort_keys=True).encode()
    prefix = MAGIC + _LENGTH.pack(len(header_bytes)) + header_bytes
    body = zlib.compress(json.dumps(dump.tables, separators=(",", ":")).encode())
    return prefix + AESGCM(_archive_key(site_key, salt)).encrypt(nonce, body, prefix)


def _header(data: bytes) -> tuple[dict[str, Any], int]:
    fixed = len(MAGIC) + _LENGTH.size
    if len(data) < fixed or not data.startswith(MAGIC):
        raise ArchiveError("not a facegate backup archive")
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    if length > MAX_HEADER_BYTES or fixed + length > len(data):
        raise ArchiveError("the archive is truncated or its header is damaged")
    try:
        header: dict[str, Any] = json.loads(data[fixed : fixed + length])
    except (ValueError, UnicodeDecodeError) as err:
        raise ArchiveError("the archive's header is damaged") from err
    if not isinstance(header, dict) or header.get("format") != ARCHIVE_FORMAT:
        raise ArchiveError(f"not a {ARCHIVE_FORMAT} archive")
    return header, fixed + length


def open_archive(site_key: bytes, data: bytes) -> SiteDump:
    """The rows of an archive :func:`seal_archive` wrote under the same site key.

    Raises:
        ArchiveError: not an archive, truncated, altered, or damaged.
        KeyFileError: the archive was made under another site key.
    """
    header, start = _header(data)
    if header.get("site_key_id") != site_key_id(site_key):
        raise KeyFileError(
            f"the archive was made under site key {header.get('site_key_id')}, but the key "
            f"in use is {site_key_id(site_key)}: set FACEGATE_SITE_KEY or site.key to that key"
        )
    try:
        salt = base64.b64decode(header["salt"], validate=True)
        nonce = base64.b64decode(header["nonce"], validate=True)
        body = AESGCM(_archive_key(site_key, salt)).decrypt(nonce, data[start:], data[:start])
        tables = json.loads(zlib.decompress(body))
    except (InvalidTag, KeyError, TypeError, ValueError, zlib.error) as err:
        raise ArchiveError("the archive fails authentication: altered or truncated") from err
    if not isinstance(tables, dict) or not isinstance(header.get("revision"), str):
        raise ArchiveError("the archive's contents are damaged")
    return SiteDump(header["revision"], tables)


def write_archive(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` (mode 0600), all or nothing.

    Raises:
        ArchiveError: ``path`` exists or cannot be written.
    """
    if path.exists():
        raise ArchiveError(f"{path} exists: choose a new file for the backup")
    try:
        write_atomically(path, data)
    except OSError as err:
        raise ArchiveError(f"{path}: cannot write the backup ({err})") from err


def read_archive(path: Path) -> bytes:
    """The bytes of an archive file.

    Raises:
        ArchiveError: missing or unreadable.
    """
    try:
        return path.read_bytes()
    except OSError as err:
        raise ArchiveError(f"{path}: cannot read the backup ({err})") from err
