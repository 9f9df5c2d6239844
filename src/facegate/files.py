"""Writing files so that a crash or a concurrent writer never leaves half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, mode: int = 0o600, durable: bool = True) -> None:
    """Replace ``path`` by ``data``: a reader sees the old file or the whole new one.

    The bytes go to a uniquely named temporary file in the same folder (two processes
    writing at once never share one), are flushed and fsynced, then renamed over
    ``path``; the folder is fsynced so the rename survives a power cut. A failure
    removes the temporary file and re-raises.

    Args:
        path: the file to write (its folder is created if missing).
        data: the whole content.
        mode: the file's permission bits (default 0600: owner only).
        durable: fsync the file and its folder (default). ``False`` keeps the atomic
            rename but not the fsyncs: for a file whose loss in a power cut is harmless
            (the uplink's cursor: a cursor behind only sends events again).

    Raises:
        OSError: the folder or the file cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".partial", dir=path.parent
    )
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if not durable:
        return
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
