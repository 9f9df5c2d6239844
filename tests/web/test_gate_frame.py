"""A recent frame from a gate on an administrator's demand: shown once, audited, never stored.

The edge gate here is the real gate side (its HTTP upstream, snapshot holder and frame
tap) polling the real app in a thread; the kiosk posts its frames as the kiosk page does.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from pages import log_in

from api_site import Site
from facegate.domain.accounts import GateKind
from facegate.domain.site import CredentialKind, CredentialMode, DoorKind
from facegate.gate.frame_tap import FrameTap
from facegate.gate.http_upstream import HttpUpstream
from facegate.gate.runner import SnapshotHolder
from facegate.ports import Frame
from facegate.services import accounts, activity, gate_frames, places
from facegate.services.gate_frames import DESK

MODEL = "fake-model"
IMAGE = re.compile(r'src="data:(image/\w+);base64,([A-Za-z0-9+/=]+)"')


def _door(site: Site) -> str:
    kinds = list(CredentialKind)
    return places.add_door(site.context, "Gate", DoorKind.ENTRANCE, CredentialMode.ANY_OF, kinds).id


def _row_counts(database: Path) -> dict[str, int]:
    engine = sa.create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            count = 'SELECT COUNT(*) FROM "{}"'
            return {n: connection.execute(sa.text(count.format(n))).scalar_one() for n in names}
    finally:
        engine.dispose()


def _files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


@pytest.fixture
def edge_gate(site: Site) -> Iterator[tuple[str, FrameTap]]:
    """An edge gate polling each 20 ms and answering asked frames, with one camera frame."""
    door = _door(site)
    secret = accounts.issue_device_key(site.context, door, "pole", GateKind.EDGE, "pole-1").secret
    upstream = HttpUpstream("", "pole-1", secret, MODEL, 5.0, client=site.client())
    holder = SnapshotHolder(upstream, "pole-1", door)
    tap = FrameTap()
    noise = np.random.default_rng(7).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    tap.see(Frame(noise, 0, 0.0))
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.02):
            holder.refresh()
            tap.answer(upstream)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield door, tap
    stop.set()
    thread.join(5.0)
    upstream.close()


def test_an_admin_sees_an_edge_gate_s_frame_audited_and_not_stored(
    site: Site, edge_gate: tuple[str, FrameTap], tmp_path: Path
) -> None:
    door, tap = edge_gate
    client, _ = log_in(site, "admin")
    before = _row_counts(tmp_path / "facegate.db")
    answer = client.get("/console/gates/pole-1/frame")
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["cache-control"] == "no-store"
    shown = IMAGE.search(answer.text)
    assert shown is not None
    data = base64.b64decode(shown.group(2))
    assert shown.group(1) == "image/jpeg"
    assert data == tap.jpeg()  # the gate's own frame, as it encoded it
    client.get("/console/gates/pole-1/frame")  # a second view: a second record
    after = _row_counts(tmp_path / "facegate.db")
    changed = {n for n in after if after[n] != before[n]}
    assert changed == {"audit_log"}, changed  # nothing of the frame in any table
    assert _files_holding(tmp_path, data[100:164]) == []  # nor in any file
    assert DESK.pending() == 0  # nothing held after the view
    views = [r for r in activity.read_audit(site.context, 0, 1000) if r.action == "gate.frame.view"]
    assert len(views) == 2
    assert views[0].details["gate_id"] == "pole-1"
    assert views[0].details["door_id"] == door
    assert views[0].details["shown"] is True


def test_staff_may_not_ask_and_a_gate_may_not_push_an_unasked_frame(
    site: Site, edge_gate: tuple[str, FrameTap]
) -> None:
    for role in ("operator", "auditor"):
        client, _ = log_in(site, role)
        assert client.get("/console/gates/pole-1/frame").status_code == 403
    client, _ = log_in(site, "operator")
    assert "/frame" not in client.get("/console/gates").text  # no link for staff
    _, tap = edge_gate
    secret = accounts.issue_device_key(site.context, _door(site), "x", GateKind.EDGE, "pole-2")
    jpeg = tap.jpeg()
    headers = {"X-Device-Key": secret.secret, "Content-Type": "image/jpeg"}
    pushed = site.client().post("/api/v1/gates/pole-2/frame", content=jpeg, headers=headers)
    assert pushed.status_code == 403
    assert not [r for r in activity.read_audit(site.context, 0, 1000) if "frame" in r.action]


def test_a_kiosk_s_next_frame_is_shown_and_a_silent_gate_answers_in_time(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    door = _door(site)
    kiosk = accounts.issue_device_key(site.context, door, "screen", GateKind.KIOSK, "lobby-1")
    accounts.issue_device_key(site.context, door, "pole", GateKind.EDGE, "quiet-1")
    jpeg = FrameTap()
    jpeg.see(Frame(np.full((32, 32, 3), 90, dtype=np.uint8), 0, 0.0))
    data = jpeg.jpeg()
    assert data is not None
    stop = threading.Event()
    poster = site.client()

    def post_frames() -> None:
        while not stop.wait(0.05):
            files = {"file": ("f.jpg", data, "image/jpeg")}
            poster.post(
                f"/api/v1/doors/{door}/frames", files=files, headers={"X-Device-Key": kiosk.secret}
            )

    thread = threading.Thread(target=post_frames, daemon=True)
    thread.start()
    try:
        client, _ = log_in(site, "admin")
        answer = client.get("/console/gates/lobby-1/frame")
    finally:
        stop.set()
        thread.join(5.0)
    shown = IMAGE.search(answer.text)
    assert shown is not None
    assert base64.b64decode(shown.group(2)) == data
    monkeypatch.setattr(gate_frames, "FRAME_WAIT_S", 0.5)
    silent = client.get("/console/gates/quiet-1/frame")  # never polls: waits, then says so
    assert silent.status_code == 200  # the page answers: it says no frame came
    assert 'id="no-frame"' in silent.text
    assert DESK.pending() == 0
    views = [r for r in activity.read_audit(site.context, 0, 1000) if r.action == "gate.frame.view"]
    assert [v.details["shown"] for v in views] == [True, False]
