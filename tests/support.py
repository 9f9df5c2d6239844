"""Helpers shared by the tests: builders of hostile and broken image files (made at run
time, never stored), a patient ``wait_for``, a small real SQLite site with one card door, and
a gallery's rows by template id (to compare two galleries), and a gate's snapshot file
taken apart and put together (to alter it)."""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import zlib
from collections.abc import Callable
from datetime import time as clock_time
from pathlib import Path

import pytest
from PIL import Image

from facegate.bootstrap import SystemClock, build_store, ensure_site_key
from facegate.config import Settings
from facegate.domain.access import TimeWindow
from facegate.domain.matching import Gallery
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.snapshot_file import MAGIC
from facegate.services import credentials, people, places, site_admin
from facegate.services.context import ServiceContext


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG whose IHDR claims ``width`` x ``height`` but holds a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    idat = zlib.compress(b"\x00" * 16)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    """``image`` encoded in format ``fmt``."""
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def bad_image_files(folder: Path) -> dict[str, Path]:
    """One file of each kind of bad input the CLI must refuse with exit code 3."""
    photo = encoded(Image.new("RGB", (64, 64), (120, 90, 60)), "JPEG")
    files = {
        "empty": b"",
        "not_an_image": b"name,unit\nAlice,3B\n",
        "corrupt": photo[:40] + bytes(range(256)) * 4,
        "truncated": photo[: len(photo) // 2],
        "one_pixel": encoded(Image.new("RGB", (1, 1)), "PNG"),
        "bomb_30000x30000": png_header_only(30000, 30000),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.png"
        paths[name].write_bytes(data)
    return paths


def wait_for(check: Callable[[], object], timeout_s: float = 15.0) -> bool:
    """Poll ``check`` every 20 ms until it is true or ``timeout_s`` seconds passed.

    The default is generous: on a loaded CI machine a gate's thread can take seconds to
    run; a check that holds returns at once, so only a failing test waits it out.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def card_site(
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    door: str,
    holder: tuple[str, str] | None = None,
) -> tuple[Settings, str, str | None]:
    """A real SQLite site, "Oak Court" (UTC), in ``folder / "site"`` with one entrance door.

    The door is ``any_of`` with cards only. ``FACEGATE_DATA_DIR`` points at the site, so
    CLI commands in the test act on it. The store is closed again before returning.

    Args:
        folder: where the site's data and cache directories go.
        monkeypatch: sets the environment for the test only.
        door: the door's name.
        holder: ``(name, card number)`` of a person holding that card who may pass the
            door all week (``None``: nobody is enrolled).

    Returns:
        The site's settings, the door's id and the holder's person id (``None`` without).
    """
    monkeypatch.setenv("FACEGATE_DATA_DIR", str(folder / "site"))
    settings = Settings(data_dir=folder / "site", cache_dir=folder / "cache")
    store = build_store(settings, migrate=True)
    try:
        ensure_site_key(settings)
        context = ServiceContext(store=store, clock=SystemClock(), actor="test")
        site_admin.init_site(context, "Oak Court", "UTC")
        added = places.add_door(
            context, door, DoorKind.ENTRANCE, CredentialMode.ANY_OF, [CredentialKind.CARD]
        )
        person_id = None
        if holder is not None:
            person_id = people.add_person(context, holder[0]).id
            credentials.add_card(context, person_id, holder[1])
            week = TimeWindow(frozenset(range(7)), clock_time(0), clock_time(23, 59))
            places.add_access_rule(context, [week], person_id=person_id, door_ids=[added.id])
    finally:
        store.close()
    return settings, added.id, person_id


class WatchedGuard:
    """A lock that says when a second thread has to wait for it (``with`` only).

    Makes a thread interleaving visible without timing it: a test waits until the
    other thread either got past the code under test or is held at this lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def __enter__(self) -> WatchedGuard:
        if not self._lock.acquire(blocking=False):
            self.contended.set()
            self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def gallery_by_id(gallery: Gallery) -> dict[str, tuple[str, bytes]]:
    """Template id to (person, the row's float32 bytes): equal for equal galleries."""
    ids = gallery.template_ids()
    assert ids is not None
    return {t: (p, r.tobytes()) for t, (p, r) in zip(ids, gallery.rows(), strict=True)}


def file_parts(path: Path) -> tuple[dict[str, object], bytes]:
    """The gate's saved snapshot file's clear header and its sealed body (see its layout)."""
    data = path.read_bytes()
    assert data.startswith(MAGIC)
    (length,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    return json.loads(data[start : start + length]), data[start + length :]


def write_parts(path: Path, header: dict[str, object], sealed: bytes) -> None:
    """Write a file of the saved layout from its clear header and sealed body."""
    clear = json.dumps(header).encode()
    path.write_bytes(MAGIC + struct.pack("<I", len(clear)) + clear + sealed)


class Hold:
    """Threads held on one ``Event`` until ``release`` is set (work that takes long).

    ``held`` counts the threads waiting now; ``timed_out`` those freed by the hang guard
    (``guard_s`` seconds) instead of by ``release``, which a test asserts to be 0.
    """

    def __init__(self, guard_s: float) -> None:
        self.release = threading.Event()
        self.guard_s = guard_s
        self.held = self.timed_out = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        """Wait here until released (or the guard ends the wait)."""
        with self._lock:
            self.held += 1
        released = self.release.wait(self.guard_s)
        with self._lock:
            self.held -= 1
            self.timed_out += not released
