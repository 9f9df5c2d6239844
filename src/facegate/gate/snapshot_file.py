"""The gate's last snapshot on disk, so a gate can start while its upstream is down.

The file ``<data-dir>/gate/snapshot.<gate_id>.bin`` holds the snapshot in the wire
format of :mod:`facegate.gate.snapshot_wire` (JSON; the body AES-256-GCM sealed, the
clear header, gate id included, as associated data). Its key is derived per gate: from
the site key with the label :data:`FILE_KEY_LABEL` for a gate on the site database, or
the wire key from the gate's device key for a gate on the site server. A file that was
altered, sealed for another gate or key, made for another door, or written in another
wire format (an older facegate's) is refused; the gate then fetches a fresh snapshot
from its upstream, which replaces the file.

Written atomically (temporary file, fsync, ``os.replace``, fsync of the folder) with
mode 0600, after a successful sync when the content changed or the saved copy is older
than :data:`RESAVE_AFTER_S`, so a large gallery is not rewritten every few seconds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from facegate.domain.clock import Clock
from facegate.domain.errors import BadInputError, FacegateError
from facegate.domain.gate import GateSnapshot
from facegate.files import write_atomically
from facegate.gate.snapshot_wire import (
    WIRE_FORMAT,
    WireFormatError,
    snapshot_from_wire,
    snapshot_to_wire,
)

FILE_KEY_LABEL = b"facegate-gate-snapshot-file-v1"
"""HKDF salt of the file key derived from the site key (distinct from every other use)."""
RESAVE_AFTER_S = 60.0
"""An unchanged snapshot is saved again when the saved copy is this old (seconds)."""
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
        data = json.dumps(snapshot_to_wire(snapshot, self.gate_id, self._key)).encode()
        _write_atomically(self.path, data)
        self._saved = snapshot
        return True

    def load(self, target_id: str) -> GateSnapshot:
        """The saved snapshot of ``target_id``, checked and unsealed.

        Raises:
            SnapshotFileError: no file, unreadable, altered, sealed for another gate or
                key, or made for another door or lift.
        """
        try:
            raw = json.loads(self.path.read_bytes())
        except FileNotFoundError as err:
            raise SnapshotFileError(f"no saved snapshot at {self.path}") from err
        except (OSError, ValueError) as err:
            raise SnapshotFileError(f"saved snapshot {self.path} unreadable: {err}") from err
        try:
            if not isinstance(raw, dict):
                raise ValueError("not a snapshot object")
            snapshot = snapshot_from_wire(raw, self.gate_id, self._key)
        except WireFormatError as err:
            raise SnapshotFileError(
                f"saved snapshot {self.path} is of wire format {raw.get('wire_format')!r} "
                f"(an older facegate wrote it), this gate reads {WIRE_FORMAT}: not used; "
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


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` (mode 0600, folder 0700): a crash leaves old or new."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomically(path, data)
