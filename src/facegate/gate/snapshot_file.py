"""The gate's last snapshot on disk, so a gate can start while its upstream is down.

The file ``<data-dir>/gate/snapshot.<gate_id>.bin`` holds the snapshot as binary (file
format :data:`FILE_FORMAT`)::

    MAGIC                 "facegate snapshot file 2" and a newline (25 bytes)
    u32 LE  n             the length of the clear header
    n bytes               the header as JSON (wire format 2's clear part: version,
                          built_at, gate_id, target_id, ...)
    the rest              the sealed body: 12-byte nonce, then AES-256-GCM of wire
                          format 2's body (:mod:`facegate.gate.snapshot_wire`), the
                          header as associated data

so a rewrite costs the body's JSON (target and access data), its binary gallery and one
encryption, not the base64 of the whole sealed body inside a JSON string (until
2026-11-28 the file was the wire's JSON object: about 1 s CPU to write at 25,000
residents x 3 templates, two thirds of it the base64 and the outer JSON). Its key is
derived per gate: from the site key with the label :data:`FILE_KEY_LABEL` for a gate on
the site database, or the wire key from the gate's device key for a gate on the site
server. A file that was altered, sealed for another gate or key, made for another door,
or written in another format (an older facegate's: no :data:`MAGIC`, or another wire
format inside) is refused; the gate then fetches a fresh snapshot from its upstream,
which replaces the file.

Written atomically (temporary file, fsync, ``os.replace``, fsync of the folder) with
mode 0600, after a successful sync when the content changed or the saved copy is older
than :data:`RESAVE_AFTER_S`, so a large gallery is not rewritten every few seconds.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

from facegate.domain.clock import Clock
from facegate.domain.errors import BadInputError, FacegateError
from facegate.domain.gate import GateSnapshot
from facegate.files import write_atomically
from facegate.gate.snapshot_wire import (
    MALFORMED,
    WIRE_FORMAT,
    WireFormatError,
    gallery_in,
    gallery_part,
    header_of,
    open_body,
    seal_body,
    snapshot_of,
)

FILE_KEY_LABEL = b"facegate-gate-snapshot-file-v1"
"""HKDF salt of the file key derived from the site key (distinct from every other use)."""
RESAVE_AFTER_S = 60.0
"""An unchanged snapshot is saved again when the saved copy is this old (seconds)."""
FILE_FORMAT = 2
"""Version of the file's layout (1, until 2026-11-28: the wire's JSON object)."""
MAGIC = b"facegate snapshot file 2\n"
"""The file's first bytes; a file without them is of another format and refused."""
_LENGTH = struct.Struct("<I")
_SAFE_GATE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class SnapshotFileError(FacegateError):
    """The saved snapshot is missing, unreadable, altered, or not this gate's."""


def snapshot_path(gate_dir: Path, gate_id: str) -> Path:
    """``<gate_dir>/snapshot.<gate_id>.bin``.

    Raises:
        BadInputError: ``gate_id`` is not a plain file-name part (letters, digits,
            ``.``, ``_``, ``-``; at most 128 characters).
    """
    if not _SAFE_GATE_ID.fullmatch(gate_id):
        raise BadInputError(f"gate id {gate_id!r}: use letters, digits, '.', '_' and '-'")
    return gate_dir / f"snapshot.{gate_id}.bin"


def age_s(snapshot: GateSnapshot, clock: Clock) -> float:
    """Seconds since the upstream built ``snapshot`` (by ``clock``)."""
    return (clock.now() - snapshot.built_at).total_seconds()


class SnapshotFile:
    """One gate's sealed snapshot file.

    Args:
        path: the file (see :func:`snapshot_path`).
        gate_id: the gate it belongs to (authenticated in the file).
        key: the 32-byte AES-256-GCM key it is sealed under.
        clock: the gate's clock (for the age of a snapshot).
    """

    def __init__(self, path: Path, gate_id: str, key: bytes, clock: Clock) -> None:
        self.path, self.gate_id, self._key, self.clock = path, gate_id, key, clock
        self._saved: GateSnapshot | None = None

    def save(self, snapshot: GateSnapshot) -> bool:
        """Write ``snapshot`` unless the same version was saved under a minute ago.

        Returns:
            Whether the file was written.

        Raises:
            OSError: the file could not be written (the old one is left whole).
        """
        last = self._saved
        if (
            last is not None
            and last.version == snapshot.version
            and (snapshot.built_at - last.built_at).total_seconds() < RESAVE_AFTER_S
        ):
            return False
        _write_atomically(self.path, self._sealed(snapshot))
        self._saved = snapshot
        return True

    def _sealed(self, snapshot: GateSnapshot) -> bytes:
        """The file's bytes for ``snapshot`` (see the module's layout)."""
        header = header_of(snapshot, self.gate_id, WIRE_FORMAT)
        gallery, tail = gallery_part(snapshot.access.gallery)
        sealed = seal_body(header, snapshot, gallery, tail, self._key)
        clear = json.dumps(header).encode()
        return b"".join((MAGIC, _LENGTH.pack(len(clear)), clear, sealed))

    def load(self, target_id: str) -> GateSnapshot:
        """The saved snapshot of ``target_id``, checked and unsealed.

        Raises:
            SnapshotFileError: no file, unreadable, of another format, altered, sealed
                for another gate or key, or made for another door or lift.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError as err:
            raise SnapshotFileError(f"no saved snapshot at {self.path}") from err
        except OSError as err:
            raise SnapshotFileError(f"saved snapshot {self.path} unreadable: {err}") from err
        if not data.startswith(MAGIC):
            raise SnapshotFileError(
                f"saved snapshot {self.path} is not of file format {FILE_FORMAT} (an older "
                "facegate wrote it, or it is not a snapshot file): not used; the gate needs "
                "its upstream to fetch a current one (which replaces the file)"
            )
        try:
            snapshot = self._opened(memoryview(data)[len(MAGIC) :])
        except WireFormatError as err:
            raise SnapshotFileError(
                f"saved snapshot {self.path} holds another wire format ({err}): not used; "
                "the gate needs its upstream to fetch a current one (which replaces the file)"
            ) from err
        except ValueError as err:
            raise SnapshotFileError(
                f"saved snapshot {self.path} refused (altered, or not gate {self.gate_id}'s "
                f"under this key): {err}"
            ) from err
        if snapshot.target.id != target_id:
            raise SnapshotFileError(
                f"saved snapshot {self.path} is for {snapshot.target.id}, not {target_id}"
            )
        self._saved = snapshot
        return snapshot

    def _opened(self, data: memoryview) -> GateSnapshot:
        """The snapshot in the file's bytes after :data:`MAGIC`.

        Raises:
            WireFormatError: its body is of another wire format.
            ValueError: malformed, altered, or not this gate's under this key.
        """
        try:
            (length,) = _LENGTH.unpack_from(data, 0)
            end = _LENGTH.size + length
            header = json.loads(bytes(data[_LENGTH.size : end]))
            if not isinstance(header, dict):
                raise ValueError("not a snapshot header")
            body, tail = open_body(header, data[end:], self.gate_id, self._key, WIRE_FORMAT)
            return snapshot_of(header, body, gallery_in(body["access"]["gallery"], tail))
        except MALFORMED as err:
            raise ValueError(f"malformed snapshot file: {err!r}") from err


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` (mode 0600, folder 0700): a crash leaves old or new."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(path, data)
